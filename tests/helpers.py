"""Helpers shared by the tests (fixtures live in conftest.py)."""

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.db import metadata, utcnow
from core.jobs.queue import woken_by_enqueue
from core.jobs.runner import run_due_jobs

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-signing"
PASSWORD = "correct horse battery"
# This run's name for what services keep on shared servers (their rate-limit counts in Redis):
# suites running side by side on one Redis, as the template tests do, never share a count.
RUN_SERVICE_NAME = f"test-{uuid.uuid4().hex[:12]}"
# What UserRead shows of an account: never the password hash.
USER_READ_FIELDS = {
    "id",
    "email",
    "full_name",
    "is_active",
    "is_superuser",
    "is_verified",
    "created_at",
    "updated_at",
}


def require_server(reason: str) -> None:
    """A test that needs a server skips without it, but fails under CI, where it must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BCRYPT_ROUNDS": 4,
        "RATE_LIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "SERVICE_NAME": RUN_SERVICE_NAME,
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that talks to `app` in-process. A request that enqueued jobs (its mail, say) has
    them run before the response reaches the test: the app's in-process runner, which a client
    without lifespan does not start, would run them at the same wake-up, but racing the test."""
    enqueued = threading.Event()

    async def run_jobs(_response: httpx.Response) -> None:
        if enqueued.is_set():
            enqueued.clear()
            await asyncio.to_thread(run_due_jobs, app.state.engine, app.state.settings)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with woken_by_enqueue(enqueued.set):
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", event_hooks={"response": [run_jobs]}
        ) as client:
            yield client


def alembic_config(engine: Engine) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["engine"] = engine
    config.attributes["configure_logger"] = False
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def insert_row(session: Session, table: str, **values: Any) -> uuid.UUID:
    """A row of `table` with the given values and made-up ones for every other required column;
    the rows it requires (its foreign keys) are made the same way. Returns its id.

    `owner_id` is used only where the table has that column. For tests that need some row of a
    table they know nothing else about: an entity's parent, say."""
    columns = metadata().tables[table].c
    row: dict[str, Any] = {"id": uuid.uuid4(), "created_at": utcnow(), "updated_at": utcnow()}
    row |= {name: value for name, value in values.items() if name in columns}
    for column in columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        (key, *_) = column.foreign_keys or [None]
        if key is not None:
            owner = {"owner_id": values["owner_id"]} if "owner_id" in values else {}
            row[column.name] = insert_row(session, key.column.table.name, **owner)
        else:
            column_type = getattr(column.type, "impl", column.type)  # UTCDateTime is a DateTime
            row[column.name] = _made_up(column_type.python_type, getattr(column_type, "length", None))
    session.execute(metadata().tables[table].insert().values(row))
    session.commit()
    return uuid.UUID(str(row["id"]))


def _made_up(python_type: type, length: int | None) -> Any:
    made_up: dict[type, Any] = {
        str: uuid.uuid4().hex[: length or 32],
        int: 1,
        float: 1.0,
        Decimal: Decimal(1),
        bool: False,
        date: date(2024, 1, 1),
        datetime: utcnow(),
        uuid.UUID: uuid.uuid4(),
    }
    return made_up[python_type]


def delete_row(session: Session, table: str, row_id: object) -> None:
    """Delete a row as the database would for any caller: its foreign keys do the rest."""
    rows = metadata().tables[table]
    session.execute(rows.delete().where(rows.c.id == uuid.UUID(str(row_id))))
    session.commit()


def query_plan(engine: Engine, statement: str, parameters: Any) -> str:
    """How the database runs a statement, as text. PostgreSQL is told to avoid table scans:
    on a test's few rows it would rightly prefer them, and the test asks which index fits."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        else:
            connection.exec_driver_sql("SET enable_seqscan = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        connection.rollback()
    return "\n".join(" ".join(str(value) for value in row) for row in rows)
