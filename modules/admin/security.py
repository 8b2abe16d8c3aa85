"""What /admin answers every request with: a strict content security policy, and a refusal for
any change that did not come from its own pages.

The policy is the strict form of the docs' one: scripts, styles, fonts and images from the
service alone, nothing inline (the templates that sqladmin writes scripts into are overridden:
`modules/admin/templates`). A change (any method but GET, HEAD, OPTIONS) must come from this origin
(its `Origin`, or `Referer` when a browser sends no `Origin`) and carry the session's form token,
in the `csrf_token` field or the `X-CSRF-Token` header (sqladmin's delete is a script's DELETE).
The session cookie is SameSite=Strict as well: each layer alone would stop a forged post.

No URL the pages or redirects hold is built from the Host header, which the client chooses: each
is a path (`/admin/login`), which the browser resolves against the host it asked for. A forged
Host (a proxy that passes any, a cache keyed without it) so never points a page, a sign-in form
or a redirect at another site, and no public origin needs configuring.
"""

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

import structlog
from starlette.datastructures import MutableHeaders, URLPath
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("modules.admin")

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# The session key of the form token: one per browser session, made anew at each sign-in.
CSRF_KEY = "csrf"
REFUSED = (
    "<!DOCTYPE html><title>Refused</title><h1>Refused</h1><p>This form did not come from this "
    "site's admin pages, or it is out of date. Go back, reload the page and try again.</p>"
)


class SecurityHeadersMiddleware:
    """The policy and its companions on every answer, assets and errors included. Pages are
    not stored by the browser or a proxy: they show accounts and tables."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PathsOnlyMiddleware:
    """Hands sqladmin the request without its Host header or server address, and with a router
    whose URLs name no scheme: `request.url` (its sort, filter and page links) is then the path
    and query, and `url_for` (every other link, form, asset and redirect) a path. Innermost:
    the form check before it compares the request's origin with the Host."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A copy: what runs outside (the access log, the tracing) sees the request as it came...
        hostless = {
            **scope,
            "headers": [(name, value) for name, value in scope["headers"] if name != b"host"],
            "server": None,
            "router": _PathsRouter(scope.get("router") or scope["app"]),
        }
        await self.app(hostless, receive, send)
        # ...and the route sqladmin's router matched, which the metrics label the request by.
        scope.update({key: hostless[key] for key in ("route", "endpoint") if key in hostless})


class _PathsRouter:
    """What `request.url_for` asks for a route's URL: the router's path, without the protocol
    that would make Starlette prefix it with a scheme."""

    def __init__(self, router: Any) -> None:
        self.router = router

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return URLPath(str(self.router.url_path_for(name, **path_params)))


def csrf_token(request: Request) -> str:
    """The session's form token, made on first use: every form and page carries it."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


class CSRFMiddleware:
    """Refuses (403) a change whose origin is not this one or whose token is not the session's.
    Runs inside the session middleware, before sqladmin reads the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        # The body is read here to find the token, then handed to sqladmin as if unread; the
        # app's body limit (MAX_REQUEST_BODY_BYTES) has bounded it already.
        body = await Request(scope, receive).body()
        reason = await _refusal(Request(scope, _replay(body, receive)))
        if reason is not None:
            log.warning("admin_request_refused", reason=reason, method=scope["method"], path=scope["path"])
            await HTMLResponse(REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _refusal(request: Request) -> str | None:
    """Why the change must not be made, or None."""
    origin = request.headers.get("origin") or _origin(request.headers.get("referer", ""))
    if origin != f"{request.url.scheme}://{request.url.netloc}":
        return "another origin" if origin else "no origin"
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        async with request.form() as form:
            field = form.get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
    expected = request.session.get(CSRF_KEY)
    if not (sent and isinstance(expected, str) and hmac.compare_digest(sent, expected)):
        return "no form token" if not sent else "wrong form token"
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then whatever the client sends next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
