"""The service plus one slow, two-step write, for the graceful-shutdown test only."""

import time
import uuid

from fastapi import FastAPI, status

from core.app import create_app as create_service
from core.db import SessionDep
from modules.items.models import Item

STEP_SECONDS = 1.5


def create_app() -> FastAPI:
    app = create_service()

    @app.post("/slow-pair/{owner_id}", status_code=status.HTTP_201_CREATED)
    def slow_pair(owner_id: uuid.UUID, session: SessionDep) -> None:
        """Two items in one transaction, with a pause between: a request cut short would leave one."""
        session.add(Item(title="first of a pair", owner_id=owner_id))
        session.flush()
        time.sleep(STEP_SECONDS)
        session.add(Item(title="second of a pair", owner_id=owner_id))
        session.commit()

    return app
