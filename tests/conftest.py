"""Fixtures: one migrated database per run (SQLite, or PostgreSQL with TEST_DATABASE_URL),
emptied after every test, and an HTTP client that talks to the app in-process.

Accounts and logins come from the users and auth modules' public surfaces, imported inside the
fixtures that use them: a slice of the suite (`make test module=...`) without them still collects."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from core.app import create_app
from core.config import Settings
from core.db import metadata
from tests.auth.lifecycle import Outbox
from tests.helpers import PASSWORD, app_client, make_settings, migrate, require_server

if TYPE_CHECKING:
    from modules.users.api import User


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of `server_url`, dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError:
        require_server(f"PostgreSQL at {make_url(server_url).render_as_string()} does not answer")
    name = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        yield from _postgres_database(server_url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def make_database_url(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Iterator[str]]:
    """Another fresh, empty database, for tests that need one of their own."""

    def make() -> Iterator[str]:
        server_url = os.environ.get("TEST_DATABASE_URL")
        if server_url:
            yield from _postgres_database(server_url)
        else:
            yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'own.db'}"

    return make


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    migrate(app.state.engine)
    return app


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    engine: Engine = app.state.engine
    return engine


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables; children are emptied before their parents."""
    yield
    if "app" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("app").state.engine
    with engine.begin() as connection:
        for table in reversed(metadata().sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app) as client:
        yield client


@pytest.fixture
def make_user(db: Session, settings: Settings) -> Callable[..., User]:
    """Create an account directly (no HTTP). Its password is `tests.helpers.PASSWORD`."""
    from modules.users.api import UserCreate, create_user

    counter = iter(range(1_000_000))

    def make(email: str | None = None, *, password: str = PASSWORD, **fields: bool | str) -> User:
        user_in = UserCreate(email=email or f"user{next(counter)}@example.com", password=password, **fields)
        return create_user(session=db, user_in=user_in, rounds=settings.BCRYPT_ROUNDS)

    return make


@pytest.fixture
def headers_for(db: Session, settings: Settings) -> Callable[[User], dict[str, str]]:
    """An Authorization header for a user, from a real login session."""
    from modules.auth.api import start_session

    def headers(user: User) -> dict[str, str]:
        tokens = start_session(session=db, user=user, settings=settings)
        return {"Authorization": f"Bearer {tokens.access_token}"}

    return headers


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("alice@example.com", full_name="Alice")


@pytest.fixture
def superuser(make_user: Callable[..., User]) -> User:
    return make_user("root@example.com", is_superuser=True)


@pytest.fixture
def user_headers(user: User, headers_for: Callable[[User], dict[str, str]]) -> dict[str, str]:
    return headers_for(user)


@pytest.fixture
def superuser_headers(superuser: User, headers_for: Callable[[User], dict[str, str]]) -> dict[str, str]:
    return headers_for(superuser)


@pytest.fixture
def outbox(caplog: pytest.LogCaptureFixture) -> Outbox:
    """The mail the console backend has logged during the test: its links and their tokens."""
    return Outbox(caplog)
