"""Fixtures for the core tests: apps of their own, with settings the session app does not have."""

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from core.app import create_app
from tests.helpers import make_settings, migrate


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`create_app` reconfigures the root logger for the whole process; put back what was there
    (pytest's own capture handlers come and go by themselves)."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if type(h).__module__ != "_pytest.logging"]
    level = root.level
    yield
    root.handlers = handlers
    root.setLevel(level)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., FastAPI]]:
    """`make_app(**settings)`: an app on a SQLite file of its own; `migrated=True` creates the tables.
    Pass `database_url` for another database."""
    engines: list[Engine] = []

    def make(*, migrated: bool = False, database_url: str | None = None, **overrides: Any) -> FastAPI:
        url = database_url or f"sqlite:///{tmp_path / f'app{len(engines)}.db'}"
        app = create_app(make_settings(url, **overrides))
        engines.append(app.state.engine)
        if migrated:
            migrate(app.state.engine)
        return app

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[[FastAPI], httpx.AsyncClient]]:
    """`connect(app)`: an in-process HTTP client for an app, closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def open_client(app: FastAPI) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        return clients[-1]

    yield open_client
    for client in clients:
        await client.aclose()
