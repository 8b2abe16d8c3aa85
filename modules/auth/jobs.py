"""The auth module's background jobs, found by discovery."""

from typing import Any

from core.jobs import JobContext, handler
from modules.auth.password_reset import RESET_JOB, send_reset_link


@handler(RESET_JOB)
def reset_link(payload: dict[str, Any], context: JobContext) -> None:
    with context.session() as session:
        send_reset_link(session=session, email=payload["email"], context=context)
