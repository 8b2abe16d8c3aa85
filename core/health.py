"""Liveness and readiness, outside the versioned API and its rate limits."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def live() -> dict[str, str]:
    """The process answers. Never touches the database."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "The database does not answer"}})
def ready(request: Request) -> JSONResponse:
    """The database answers a trivial query."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})
