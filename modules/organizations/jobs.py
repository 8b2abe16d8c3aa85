"""The organizations module's background jobs, found by discovery."""

import uuid
from typing import Any

from core.jobs import JobContext, handler
from modules.organizations.service import PRUNE_INVITATION_JOB, prune_invitation


@handler(PRUNE_INVITATION_JOB)
def prune_an_expired_invitation(payload: dict[str, Any], context: JobContext) -> None:
    """Enqueued with each invitation, to run when its link expires."""
    with context.session() as session:
        prune_invitation(
            session=session,
            organization_id=uuid.UUID(payload["organization_id"]),
            invitation_id=uuid.UUID(payload["invitation_id"]),
            nonce=payload["nonce"],
        )
