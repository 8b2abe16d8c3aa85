"""The service plus one slow, two-step write, for the graceful-shutdown test only.

The two rows are login sessions: `auth_sessions` is in every service, whatever its entities."""

import time
import uuid
from datetime import timedelta

import structlog
from fastapi import FastAPI, status

from core.app import create_app as create_service
from core.db import SessionDep, utcnow
from modules.auth.models import AuthSession

STEP_SECONDS = 1.5
# Logged between the two writes: the test stops the service once every request has logged it.
BETWEEN_WRITES = "slow_pair_between_writes"
log = structlog.get_logger(__name__)


def create_app() -> FastAPI:
    app = create_service()

    @app.post("/slow-pair/{owner_id}", status_code=status.HTTP_201_CREATED)
    def slow_pair(owner_id: uuid.UUID, session: SessionDep) -> None:
        """Two rows in one transaction, with a pause between: a request cut short would leave one."""
        owned = {"user_id": owner_id, "expires_at": utcnow() + timedelta(hours=1)}
        session.add(AuthSession(refresh_token_hash="first of a pair", **owned))
        session.flush()
        log.info(BETWEEN_WRITES)
        time.sleep(STEP_SECONDS)
        session.add(AuthSession(refresh_token_hash="second of a pair", **owned))
        session.commit()

    return app
