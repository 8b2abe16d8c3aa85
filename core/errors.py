"""Errors a service may raise, and the handlers that turn every failure into JSON."""

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = structlog.get_logger(__name__)


class ServiceError(Exception):
    """A refusal a client can fix. Services raise it; the handler turns it into `{"detail"}`."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> dict[str, object]:
        return {"detail": self.detail}


class UnauthorizedError(ServiceError):
    """Missing or bad credentials; answered with `WWW-Authenticate: Bearer`."""

    status_code = 401


class NotFoundError(ServiceError):
    status_code = 404


class ConflictError(ServiceError):
    status_code = 409


class ForbiddenError(ServiceError):
    status_code = 403


class InvalidReferenceError(ServiceError):
    """A field names a row the caller cannot link to (missing, or someone else's). Answered like
    FastAPI's own validation errors, so a client reads every 422 the same way."""

    status_code = 422

    def __init__(self, field: str, value: object, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.value = value

    def body(self) -> dict[str, object]:
        error = {"type": "reference_not_found", "loc": ["body", self.field], "msg": self.detail}
        return {"detail": [{**error, "input": str(self.value)}]}


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, UnauthorizedError) else None
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)


DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly"
# The database could not be reached, dropped the connection, or the pool had none free in time:
# a passing condition the client may retry, not a bug.
DATABASE_OUTAGES = (OperationalError, DisconnectionError, PoolTimeoutError)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The first line names the failure; the next ones would carry the statement and its parameters.
    log.warning("database_unavailable", error=(str(exc) or type(exc).__name__).splitlines()[0])
    return JSONResponse({"detail": DATABASE_UNAVAILABLE}, status_code=503, headers={"Retry-After": "5"})


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    # The request id is bound to the log context by the request middleware.
    log.error("unhandled_error", exc_info=exc)
    headers = {"X-Request-ID": request.state.request_id} if hasattr(request.state, "request_id") else {}
    return JSONResponse({"detail": "Internal server error"}, status_code=500, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    for outage in DATABASE_OUTAGES:
        app.add_exception_handler(outage, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled_error)
