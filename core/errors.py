"""Errors a service may raise, the handlers that turn every failure into JSON, and the models
that document them.

Every error body is `{"detail": ..., "code": ...}`: `detail` as FastAPI writes it (prose, or a
list of problems for a 422), `code` one of `ErrorCode` or of a module's own codes
(`error_codes`), stable for programs to branch on.
"""

import math
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from core.headers import EVERY_RESPONSE

log = structlog.get_logger(__name__)


class ErrorCode(StrEnum):
    """What went wrong, for programs. Each code's docstring is its status and when it is answered
    (`NNN: ...`), which docs/reference/errors.md lists (`make modules`)."""

    BAD_REQUEST = "bad_request"
    """400: a refusal the words explain (a superuser demoting or deleting themselves), or a body
    that cannot be parsed."""
    LINK_INVALID = "link_invalid"
    """400: a verification or reset token that is malformed, tampered with, for the other purpose,
    or for no active account."""
    LINK_EXPIRED = "link_expired"
    """400: such a token whose time is up: ask for a new link."""
    LINK_USED = "link_used"
    """400: such a token used already, or outdated since (the password or address changed)."""
    UNAUTHORIZED = "unauthorized"
    """401: no token, a bad or expired one, or failed credentials (`WWW-Authenticate: Bearer`)."""
    FORBIDDEN = "forbidden"
    """403: signed in but not allowed: superusers only, registration closed, an unverified address."""
    NOT_FOUND = "not_found"
    """404: no such path, or no such row among the caller's (someone else's is the same 404)."""
    METHOD_NOT_ALLOWED = "method_not_allowed"
    """405: the path does not take this method; `Allow` names every method it takes."""
    CONFLICT = "conflict"
    """409: a duplicate of a unique value, or a row whose parent another request deleted meanwhile
    (the detail names it)."""
    BODY_TOO_LARGE = "body_too_large"
    """413: the body is over `MAX_REQUEST_BODY_BYTES`."""
    HEADERS_TOO_LARGE = "headers_too_large"
    """431: the request's headers together are over `MAX_REQUEST_HEADER_BYTES`."""
    VALIDATION_ERROR = "validation_error"
    """422: the request does not match the schema; each problem is listed."""
    REFERENCE_NOT_FOUND = "reference_not_found"
    """422: a reference to a row that is missing or another account's, in the 422 list shape."""
    RATE_LIMITED = "rate_limited"
    """429: over a rate limit, with `Retry-After`."""
    INTERNAL_ERROR = "internal_error"
    """500: a bug: the log has the traceback under the response's `X-Request-ID`."""
    DATABASE_UNAVAILABLE = "database_unavailable"
    """503: the database does not answer, with `Retry-After`."""


# The modules' own codes (`error_codes`), in the order they were declared.
_MODULE_CODES: list[type[StrEnum]] = []
Codes = TypeVar("Codes", bound=type[StrEnum])


def error_codes(codes: Codes) -> Codes:
    """`@error_codes class OrdersErrorCode(StrEnum): OUT_OF_STOCK = "out_of_stock"`: a module's own
    codes for `ServiceError(..., code=...)`, listed in `/openapi.json`'s `ErrorCode` beside core's
    (`core.openapi`), and in docs/reference/errors.md with its status and when it is answered,
    from each member's docstring (`409: ...`) as for `ErrorCode`. A value another module or core
    already has is refused when declared."""
    taken = set(every_code()) & {code.value for code in codes}
    if taken and codes not in _MODULE_CODES:
        raise ValueError(f"{codes.__name__}: error codes {sorted(taken)} are already declared")
    if codes not in _MODULE_CODES:
        _MODULE_CODES.append(codes)
    return codes


def every_code() -> list[str]:
    """Core's codes, then every module's."""
    kinds: list[type[StrEnum]] = [ErrorCode, *_MODULE_CODES]
    return [code.value for kind in kinds for code in kind]


class Error(BaseModel):
    """An error: what happened in words, and its code."""

    detail: str
    code: ErrorCode


class ValidationProblem(BaseModel):
    """One reason a request was refused, as FastAPI reports it. `input` is left out for secrets."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrors(BaseModel):
    """A 422: every problem found (`validation_error`), or a reference to a row the caller cannot
    link to (`reference_not_found`)."""

    detail: list[ValidationProblem]
    code: ErrorCode


class ServiceError(Exception):
    """A refusal a client can fix. Services raise it; the handler answers `{"detail", "code"}`.
    A 400 may name its kind with a more precise `code` (`link_expired`)."""

    status_code = 400
    code: StrEnum = ErrorCode.BAD_REQUEST
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, code: StrEnum | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    def body(self) -> dict[str, object]:
        return {"detail": self.detail, "code": self.code}


class UnauthorizedError(ServiceError):
    """Missing or bad credentials; answered with `WWW-Authenticate: Bearer`."""

    status_code = 401
    code = ErrorCode.UNAUTHORIZED
    headers = {"WWW-Authenticate": "Bearer"}


class ForbiddenError(ServiceError):
    status_code = 403
    code = ErrorCode.FORBIDDEN


class NotFoundError(ServiceError):
    status_code = 404
    code = ErrorCode.NOT_FOUND


class ConflictError(ServiceError):
    status_code = 409
    code = ErrorCode.CONFLICT


class RateLimitedError(ServiceError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class InvalidReferenceError(ServiceError):
    """A field names a row the caller cannot link to (missing, or someone else's). Answered like
    FastAPI's own validation errors, so a client reads every 422 the same way."""

    status_code = 422
    code = ErrorCode.REFERENCE_NOT_FOUND

    def __init__(self, field: str, value: object, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.value = value

    def body(self) -> dict[str, object]:
        error = {"type": "reference_not_found", "loc": ["body", self.field], "msg": self.detail}
        return {"detail": [{**error, "input": str(self.value)}], "code": self.code}


class DatabaseUnavailableError(ServiceError):
    """Documents the 503 that `_database_unavailable` answers for the database's own errors."""

    status_code = 503
    code = ErrorCode.DATABASE_UNAVAILABLE


class BodyTooLargeError(ServiceError):
    """Documents the 413 of `core.middleware.BodyLimitMiddleware`."""

    status_code = 413
    code = ErrorCode.BODY_TOO_LARGE


# Statuses the framework answers itself (no route, a refused method, a body over the limit).
_HTTP_CODES = {
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
    429: ErrorCode.RATE_LIMITED,
}

_DESCRIPTIONS = {
    400: "The request cannot be carried out as it stands",
    401: "Not authenticated, or the credentials are invalid or expired",
    403: "Authenticated, but not allowed to do this",
    404: "Not found, or not the caller's",
    409: "Conflicts with a row that exists",
    413: "The request body is over the size limit",
    422: "The request is invalid: each problem is listed",
    429: "Too many requests: wait for `Retry-After` seconds",
    503: "The database is unavailable: retry after `Retry-After` seconds",
}

Call = TypeVar("Call", bound=Callable[..., Any])


def raises(*errors: type[ServiceError]) -> Callable[[Call], Call]:
    """Mark a dependency with the errors it may raise: every route that depends on it documents
    them (`document_errors`), so a route lists only what its own handler raises."""

    def mark(call: Call) -> Call:
        call.__dict__["__raises__"] = (*call.__dict__.get("__raises__", ()), *errors)
        return call

    return mark


def _response(status: int) -> dict[str, Any]:
    return {"model": ValidationErrors if status == 422 else Error, "description": _DESCRIPTIONS[status]}


def responses(*errors: type[ServiceError]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of the errors a route's handler raises, for its `responses=`."""
    return {error.status_code: _response(error.status_code) for error in errors}


def _statuses(dependant: Dependant) -> set[int]:
    """The error statuses a dependency and those it depends on may answer."""
    found = {error.status_code for error in getattr(dependant.call, "__raises__", ())}
    if dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params:
        found.add(422)
    if dependant.body_params:
        # 400: a body that cannot be parsed at all (not UTF-8, a broken form), as FastAPI answers.
        found |= {400, 413, 422}
    for dependency in dependant.dependencies:
        found |= _statuses(dependency)
    return found


def document_errors(router: APIRouter) -> APIRouter:
    """Give each of the router's operations the errors it can answer: those its dependencies
    are marked with (`raises`), 422 when it takes any parameter or body, 413 and 400 (cannot be
    parsed) when it takes a body. What a route declares itself is kept. Call it before the
    router is included: the app reads `responses` then; dependencies the inclusion adds
    document themselves there."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            for status in sorted(_statuses(route.dependant)):
                route.responses.setdefault(status, _response(status))
    return router


# What a 422 names and must never echo back: what the client sent as a secret.
_SECRET = re.compile(r"password|token|secret", re.IGNORECASE)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _printable(value: Any) -> Any:
    """`value` as JSON can carry it: lone surrogates replaced, NaN and infinities as text, and
    any field whose name says it is a secret left out."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {
            _printable(key): _printable(item)
            for key, item in value.items()
            if not (isinstance(key, str) and _SECRET.search(key))
        }
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    return value


_PROBLEM_KEYS = ("type", "loc", "msg", "input", "ctx")


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    problem: dict[str, Any] = {key: error[key] for key in _PROBLEM_KEYS if key in error}
    # pydantic puts the exception itself in ctx; its message is already in msg.
    context = {key: value for key, value in problem.pop("ctx", {}).items() if key != "error"}
    if context:
        problem["ctx"] = context
    if any(isinstance(part, str) and _SECRET.search(part) for part in problem["loc"]):
        problem.pop("input", None)
    printable: dict[str, Any] = _printable(jsonable_encoder(problem))
    return printable


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [_problem(error) for error in exc.errors()]
    return JSONResponse({"detail": detail, "code": ErrorCode.VALIDATION_ERROR}, status_code=422)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path, not only the first route's."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def _slash_twin(request: Request) -> str | None:
    """The path with its trailing slash added or taken away, if a route answers at that path."""
    path = request.scope["path"]  # the root path included, as a Location needs it
    twin = path.rstrip("/") if path.endswith("/") else f"{path}/"
    if not twin:
        return None
    scope = {**request.scope, "path": twin}
    for route in iter_route_contexts(request.app.router.routes):
        # Routes only: a mount (the docs' assets) takes any path below it, with a slash or not.
        if isinstance(route.original_route, Route) and route.matches(scope)[0] != Match.NONE:
            return twin
    return None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and (twin := _slash_twin(request)):
        # Starlette's own redirect (off: `redirect_slashes=False`) builds an absolute URL from the
        # Host header, which a client chooses. A relative one leads to the same host, whatever it said.
        query = request.scope.get("query_string", b"").decode("latin-1")
        return RedirectResponse(f"{twin}?{query}" if query else twin, status_code=307)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    return JSONResponse({"detail": exc.detail, "code": code}, status_code=exc.status_code, headers=headers)


DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly"
# The database could not be reached, dropped the connection, or the pool had none free in time:
# a passing condition the client may retry, not a bug.
DATABASE_OUTAGES = (OperationalError, DisconnectionError, PoolTimeoutError)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The first line names the failure; the next ones would carry the statement and its parameters.
    log.warning("database_unavailable", error=(str(exc) or type(exc).__name__).splitlines()[0])
    return JSONResponse(
        {"detail": DATABASE_UNAVAILABLE, "code": ErrorCode.DATABASE_UNAVAILABLE},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    # The request id is bound to the log context by the request middleware.
    log.error("unhandled_error", exc_info=exc)
    # Answered outside the request middleware: what it adds to every response is added here.
    headers = {name.decode(): value.decode() for name, value in EVERY_RESPONSE}
    if hasattr(request.state, "request_id"):
        headers["X-Request-ID"] = request.state.request_id
    body = {"detail": "Internal server error", "code": ErrorCode.INTERNAL_ERROR}
    return JSONResponse(body, status_code=500, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ServiceError, _service_error)
    for outage in DATABASE_OUTAGES:
        app.add_exception_handler(outage, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled_error)
