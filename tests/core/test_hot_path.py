"""What keeps the per-request cost of the shape every module copies low (see docs/performance.md)."""

import inspect
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from core.config import app_settings
from core.db import get_session
from modules.users.models import User


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


async def test_the_memory_rate_limit_still_counts(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    app = make_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_DEFAULT="2/minute")
    client = connect(app)

    statuses = [(await client.get("/api/v1/users/me")).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
