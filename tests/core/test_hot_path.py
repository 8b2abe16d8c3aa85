"""What keeps the per-request cost of the shape every module copies low (the template records
the figures in its docs/performance.md)."""

import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from limits import parse
from sqlalchemy import event

from core import security
from core.config import app_settings
from core.db import get_session
from core.ratelimit import MemoryWindows
from core.security import ExpiredTokenError, TokenType, create_token, decode_token
from modules.users.models import User
from tests.helpers import TEST_SECRET_KEY


def test_the_app_sets_no_dependency_overrides(app: FastAPI) -> None:
    # With any override set, FastAPI rebuilds every dependency of every request.
    assert app.dependency_overrides == {}


def test_dependencies_that_do_no_io_are_async() -> None:
    # A sync dependency costs a trip to the threadpool; these run on the event loop.
    assert inspect.iscoroutinefunction(app_settings)
    assert inspect.isasyncgenfunction(get_session)


async def test_the_session_gives_its_connection_back_after_the_request(
    app: FastAPI, client: httpx.AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.get("/api/v1/users/me", headers=user_headers)

    assert response.status_code == 200
    assert app.state.engine.pool.checkedout() == 0


async def test_an_error_in_the_request_still_closes_the_session(
    app: FastAPI, client: httpx.AsyncClient, superuser_headers: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/users/00000000-0000-0000-0000-000000000000", headers=superuser_headers
    )

    assert response.status_code == 404
    assert app.state.engine.pool.checkedout() == 0


@contextmanager
def statement_threads(app: FastAPI) -> Iterator[list[int]]:
    """The thread each statement of the app's engine runs in, in order."""
    threads: list[int] = []

    def record(*_args: Any) -> None:
        threads.append(threading.get_ident())

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        yield threads
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)


async def test_the_callers_read_runs_on_the_event_loop_on_a_sqlite_file_only(
    app: FastAPI, client: httpx.AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    await client.get("/api/v1/users/me", headers=user_headers)  # the pool has a connection idle
    with statement_threads(app) as threads:
        response = await client.get("/api/v1/users/me", headers=user_headers)

    assert response.status_code == 200
    loop = threading.get_ident()  # the ASGI transport runs the app on the test's own loop
    if app.state.engine.dialect.name == "sqlite":
        assert threads[:1] == [loop]
    else:
        assert threads
        assert loop not in threads


async def test_with_no_connection_idle_the_read_waits_in_a_thread_not_on_the_loop(
    app: FastAPI, client: httpx.AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    await client.get("/api/v1/users/me", headers=user_headers)
    held = [app.state.engine.connect() for _ in range(app.state.engine.pool.checkedin())]
    try:
        with statement_threads(app) as threads:
            response = await client.get("/api/v1/users/me", headers=user_headers)
    finally:
        for connection in held:
            connection.close()

    assert response.status_code == 200
    assert threads
    assert threading.get_ident() not in threads


async def test_the_memory_rate_limit_still_counts(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    app = make_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_DEFAULT="2/minute")
    client = connect(app)

    statuses = [(await client.get("/api/v1/users/me")).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_counting_in_memory_starts_no_thread() -> None:
    windows = MemoryWindows()
    limit = parse("1000/minute")
    before = threading.active_count()

    refused = [windows.hit(limit, "test", "client") for _ in range(1001)]

    assert threading.active_count() == before
    assert refused[:1000] == [None] * 1000
    assert refused[1000] is not None


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token, expires_at = create_token(
        subject="someone", token_type=TokenType.ACCESS, secret=TEST_SECRET_KEY, lifetime=timedelta(minutes=1)
    )
    decode_token(token, secret=TEST_SECRET_KEY, token_type=TokenType.ACCESS)  # verified, remembered
    later = expires_at.timestamp() + 1
    monkeypatch.setattr(security.time, "time", lambda: later)  # the clock, an outside edge

    with pytest.raises(ExpiredTokenError):
        decode_token(token, secret=TEST_SECRET_KEY, token_type=TokenType.ACCESS)
