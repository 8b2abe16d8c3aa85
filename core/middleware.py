"""Request context as pure ASGI middleware: cheaper than `BaseHTTPMiddleware`, safe with streams."""

import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import logging
from core.errors import ErrorCode
from core.headers import EVERY_RESPONSE

# An incoming id is echoed only when it is short and plain; anything else is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


# Told of every answered request: its scope, status and seconds (`core.metrics.RequestMetrics`).
Observer = Callable[[Scope, int, float], None]


HEADERS_TOO_LARGE = "Request headers too large"


class RequestContextMiddleware:
    """Give every request an id, echo it in `X-Request-ID` with the headers every response
    carries (`core.headers`), and log one access event; `observe`, when given, hears of every
    request too, timed once for both. Headers over `max_header_bytes` in all are refused (431)."""

    def __init__(self, app: ASGIApp, max_header_bytes: int, observe: Observer | None = None) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app = self.app
        if sum(len(name) + len(value) for name, value in scope["headers"]) > self.max_header_bytes:
            # uvicorn has read them whatever their size: a proxy in front should cap them first.
            app = JSONResponse({"detail": HEADERS_TOO_LARGE, "code": ErrorCode.HEADERS_TOO_LARGE}, 431)
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                named = {name.lower() for name, _ in headers}
                # What the app already said (a module's site with a referrer policy of its own) stands.
                headers += [header for header in EVERY_RESPONSE if header[0] not in named]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            logging.access(
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
                user_id=state.get("user_id"),
            )
            if self.observe is not None:
                self.observe(scope, status, seconds)


TOO_LARGE = "Request body too large"
BODILESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with a JSON 413.

    Starlette's own limit (FastAPI's `max_body_size`) sits outside every user middleware and
    answers an oversized Content-Length with plain text and no `X-Request-ID`; this one runs
    inside the request context, so the 413 looks like every other error.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            body = {"detail": TOO_LARGE, "code": ErrorCode.BODY_TOO_LARGE}
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        if scope["method"] in BODILESS:
            # No route of these methods reads a body: nothing to count as it arrives.
            await self.app(scope, receive, send)
            return
        received = 0

        async def receive_limited() -> Message:
            # A chunked body announces no size: count it as it arrives. The route reading it
            # gets an HTTPException, which FastAPI answers as JSON.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(status_code=413, detail=TOO_LARGE)
            return message

        await self.app(scope, receive_limited, send)
