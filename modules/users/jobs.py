"""The users module's background jobs, found by discovery."""

import uuid
from typing import Any

from core.jobs import JobContext, handler
from modules.users.verification import (
    EMAIL_CHANGE_JOB,
    VERIFICATION_JOB,
    send_email_change_link,
    send_verification_link,
)


@handler(VERIFICATION_JOB)
def verification_link(payload: dict[str, Any], context: JobContext) -> None:
    with context.session() as session:
        send_verification_link(session=session, email=payload["email"], context=context)


@handler(EMAIL_CHANGE_JOB)
def email_change_link(payload: dict[str, Any], context: JobContext) -> None:
    with context.session() as session:
        user_id = uuid.UUID(payload["user_id"])
        send_email_change_link(session=session, user_id=user_id, email=payload["email"], context=context)
