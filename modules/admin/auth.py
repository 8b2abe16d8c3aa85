"""Signing in to /admin with the service's own accounts, and the session that follows.

Only an active superuser gets in; a wrong password, an unknown address, a deactivated account and
one that is not a superuser all get the same refusal, and every attempt counts against the API's
login limit (RATE_LIMIT_LOGIN, per client address). A sign-in is a sign-in session of the module
that hands over `sign_in` (the auth module's, beside its API logins), kept on the server: the
cookie (starlette's signed session: HttpOnly, SameSite=Strict, path /admin, Secure in
production) holds only its id. Every request loads it: it must not have been ended (signed out
here, ended in the sign-in sessions view, or with every sign-in of the account: a password
change or reset, signing out everywhere, a deactivation) nor expired, ADMIN_SESSION_EXPIRE_MINUTES
after sign-in however busy it has been, and its account must still be an active superuser. So
signing out ends it for every copy of the cookie, not only the browser's.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqladmin.authentication import AuthenticationBackend
from sqladmin.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response

from core.config import Settings
from core.errors import RateLimitedError
from core.security import keyed_digest
from modules.admin.security import CSRFMiddleware, PathsOnlyMiddleware
from modules.admin.settings import AdminSettings

log = structlog.get_logger("modules.admin")

PATH = "/admin"
COOKIE = "admin_session"
# The cookie's key holding the sign-in session's id.
AUTH_SESSION = "auth_session_id"
# What the login form takes, as the API's login form does: longer is refused unread.
MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH = 320, 1024


class Operator(Protocol):
    """The account signed in to /admin, as this module sees it (it imports no other module)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_superuser(self) -> bool: ...


class Authenticate(Protocol):
    def __call__(self, *, session: Session, email: str, password: str, rounds: int) -> Operator | None: ...


class StartSignIn(Protocol):
    """Start a sign-in session for the account, lasting `lifetime`; return its id."""

    def __call__(
        self,
        *,
        session: Session,
        user_id: uuid.UUID,
        lifetime: timedelta,
        user_agent: str | None,
        ip_address: str | None,
    ) -> uuid.UUID: ...


class LoadSignIn(Protocol):
    """The account of a sign-in session that has been neither ended nor outlived, or None."""

    def __call__(self, *, session: Session, auth_session_id: uuid.UUID) -> Operator | None: ...


class EndSignIn(Protocol):
    """End a sign-in session; return its account's id, None when it had ended already."""

    def __call__(self, *, session: Session, auth_session_id: uuid.UUID) -> uuid.UUID | None: ...


@dataclass(frozen=True)
class SignIn:
    """How /admin checks a password and starts, loads and ends a sign-in: the auth module's own
    functions, which its `admin.py` hands over (`AdminPages(sign_in=...)`). A password tried here
    spends the API's login budget (`attempt`: 429 once spent; it may block on the limit's storage)
    and a refusal is counted as the API's are (`refused`)."""

    authenticate: Authenticate
    start: StartSignIn
    load: LoadSignIn
    end: EndSignIn
    attempt: Callable[[Request], None]
    refused: Callable[[], None]


def _signing_key(settings: Settings) -> str:
    # A key of its own, derived from SECRET_KEY: the cookie's signature never doubles as a token's.
    return keyed_digest(settings.secret_key, "admin-session")


class AdminAuth(AuthenticationBackend):
    """sqladmin's hooks: `login` and `logout` for their pages, `authenticate` on every other."""

    templates: Jinja2Templates  # the admin's own, set once sqladmin has made them

    def __init__(self, *, settings: Settings, sign_in: SignIn, engine: Engine) -> None:
        # Not super().__init__(): it adds a session middleware of sqladmin's choosing; this one
        # sets the cookie's flags and lifetime, checks the form token inside it, and innermost
        # hands sqladmin a request it can build no absolute URL from (modules.admin.security).
        self.settings, self.sign_in, self.engine = settings, sign_in, engine
        self.lifetime = timedelta(minutes=settings.section(AdminSettings).ADMIN_SESSION_EXPIRE_MINUTES)
        self.middlewares = [
            Middleware(
                SessionMiddleware,
                secret_key=_signing_key(settings),
                session_cookie=COOKIE,
                max_age=max(1, round(self.lifetime.total_seconds())),
                path=PATH,
                same_site="strict",
                https_only=settings.ENVIRONMENT == "production",
            ),
            Middleware(CSRFMiddleware),
            Middleware(PathsOnlyMiddleware),
        ]

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        email, password = str(form.get("username") or ""), str(form.get("password") or "")
        try:
            operator = await run_in_threadpool(self._check_password, request, email, password)
        except RateLimitedError as exc:
            context = {"error": "Too many sign-in attempts: wait a minute, then try again."}
            page = await self.templates.TemplateResponse(request, "sqladmin/login.html", context, 429)
            page.headers.update(exc.headers or {})
            return page
        if operator is None:
            self.sign_in.refused()
            log.info("admin_sign_in_refused")
            return False
        auth_session_id = await run_in_threadpool(
            self._start, operator, _auth_session_id(request.session), request
        )
        # A new session: nothing from before the sign-in (its form token included) carries over.
        request.session.clear()
        request.session[AUTH_SESSION] = str(auth_session_id)
        log.info("admin_signed_in", admin_id=str(operator.id), auth_session_id=str(auth_session_id))
        return True

    def _check_password(self, request: Request, email: str, password: str) -> Operator | None:
        self.sign_in.attempt(request)  # may block on Redis: this runs in the threadpool
        if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            return None
        with Session(self.engine) as session:
            operator = self.sign_in.authenticate(
                session=session, email=email, password=password, rounds=self.settings.BCRYPT_ROUNDS
            )
        return operator if operator is not None and operator.is_superuser else None

    def _start(self, operator: Operator, previous: uuid.UUID | None, request: Request) -> uuid.UUID:
        with Session(self.engine) as session:
            if previous is not None:  # signing in again in the same browser ends the sign-in before
                self.sign_in.end(session=session, auth_session_id=previous)
            return self.sign_in.start(
                session=session,
                user_id=operator.id,
                lifetime=self.lifetime,
                user_agent=request.headers.get("user-agent"),
                ip_address=request.client.host if request.client else None,
            )

    async def logout(self, request: Request) -> Response | bool:
        admin_id = await run_in_threadpool(self._end, _auth_session_id(request.session))
        log.info("admin_signed_out", admin_id=str(admin_id) if admin_id else None)
        request.session.clear()
        return False  # sqladmin then shows the sign-in page

    def _end(self, auth_session_id: uuid.UUID | None) -> uuid.UUID | None:
        if auth_session_id is None:
            return None
        with Session(self.engine) as session:
            return self.sign_in.end(session=session, auth_session_id=auth_session_id)

    async def authenticate(self, request: Request) -> Response | bool:
        operator = await run_in_threadpool(self._signed_in, _auth_session_id(request.session))
        if operator is None:
            # Ended: signing in again starts afresh. The form token stays, for the sign-in form.
            request.session.pop(AUTH_SESSION, None)
            return False
        request.state.admin = operator
        return True

    async def get_user_id(self, request: Request) -> Any:
        return str(request.state.admin.id)

    def _signed_in(self, auth_session_id: uuid.UUID | None) -> Operator | None:
        """The sign-in's account, if the sign-in holds and the account is an active superuser."""
        if auth_session_id is None:
            return None
        with Session(self.engine) as session:
            operator = self.sign_in.load(session=session, auth_session_id=auth_session_id)
            if operator is not None and not (operator.is_active and operator.is_superuser):
                # Ended for good: were the account made a superuser again, this cookie stays dead.
                self.sign_in.end(session=session, auth_session_id=auth_session_id)
                return None
        return operator


def _auth_session_id(cookie: dict[str, Any]) -> uuid.UUID | None:
    """The sign-in session the cookie names, if any. The cookie is signed, so only this service
    wrote it, but perhaps in another shape: before an upgrade, or before signing in."""
    value = cookie.get(AUTH_SESSION)
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
