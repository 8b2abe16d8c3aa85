"""Fixtures for /admin's tests: a client signed in as a superuser, and apps with settings of their own."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.app import create_app
from modules.users.models import User
from tests.admin.helpers import sign_in_to_admin
from tests.helpers import app_client, make_settings


@pytest.fixture
async def token(client: httpx.AsyncClient, superuser: User) -> str:
    """The form token of `client`, signed in to /admin as `superuser`."""
    return await sign_in_to_admin(client, superuser)


@pytest.fixture
def own_app(
    app: FastAPI, database_url: str
) -> Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]:
    """Another app on the same (migrated, emptied) database, with some settings changed."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        other = create_app(make_settings(database_url, **overrides))
        try:
            async with app_client(other) as client:
                yield other, client
        finally:
            other.state.engine.dispose()

    return make
