"""Fixtures for the deployment tests: a fresh PostgreSQL database and Redis, both real servers.

They run in every pass of `.ci/run` (SQLite or not): several instances only make sense on
PostgreSQL and Redis, so these tests use the server of TEST_DATABASE_URL when it is PostgreSQL
and the local one otherwise.
"""

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from core.db import create_db_engine
from tests.helpers import make_settings, migrate, require_server

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/5"


def postgres_server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else LOCAL_POSTGRES


@pytest.fixture(scope="module")
def make_postgres_database() -> Iterator[Callable[[], str]]:
    """Make new, empty PostgreSQL databases; all are dropped afterwards."""
    server_url = postgres_server_url()
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError:
        admin.dispose()
        require_server(f"PostgreSQL at {make_url(server_url).render_as_string()} does not answer")
    names: list[str] = []

    def make() -> str:
        names.append(f"deploy_{uuid.uuid4().hex[:12]}")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{names[-1]}"'))
        return make_url(server_url).set(database=names[-1]).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def postgres_url(make_postgres_database: Callable[[], str]) -> str:
    """A new, migrated PostgreSQL database for the test module."""
    url = make_postgres_database()
    engine = create_db_engine(make_settings(url))
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", LOCAL_REDIS)
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        require_server(f"Redis at {url} does not answer")
    finally:
        client.close()
    return url
