"""The account lifecycle's migrations, up and down, on the test backend (SQLite, or PostgreSQL
with TEST_DATABASE_URL: CI runs both)."""

import uuid
from collections.abc import Callable, Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Boolean, Engine, String, Uuid, column, inspect, table, text

from core.db import UTCDateTime, create_db_engine, metadata, utcnow
from tests.helpers import ROOT, alembic_config, make_settings

USERS_IS_VERIFIED = "6f10d4ec6add"


def revision_before(revision: str) -> str:
    """The revision a migration follows (the items example's, or an earlier one when a service has none)."""
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_revision(revision)
    assert script is not None
    assert isinstance(script.down_revision, str)
    return script.down_revision


# The last revision before the account lifecycle.
BEFORE = revision_before(USERS_IS_VERIFIED)


@pytest.fixture
def fresh_engine(make_database_url: Callable[[], Iterator[str]]) -> Iterator[Engine]:
    urls = make_database_url()
    engine = create_db_engine(make_settings(next(urls)))
    yield engine
    engine.dispose()
    urls.close()


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _insert_user_and_session(engine: Engine) -> None:
    """An account and a login as they were before the account lifecycle (only the columns of then)."""
    now, user_id = utcnow(), uuid.uuid4()
    stamps = {"created_at": now, "updated_at": now}
    users = table(
        "users",
        *(column(name, UTCDateTime()) for name in ("created_at", "updated_at", "password_changed_at")),
        *(column(name, Boolean()) for name in ("is_active", "is_superuser")),
        column("id", Uuid()),
        column("email", String()),
        column("hashed_password", String()),
    )
    sessions = table(
        "auth_sessions",
        *(column(name, UTCDateTime()) for name in ("created_at", "updated_at", "expires_at", "last_used_at")),
        column("id", Uuid()),
        column("user_id", Uuid()),
        column("refresh_token_hash", String()),
    )
    with engine.begin() as connection:
        connection.execute(
            users.insert().values(
                id=user_id,
                email="old@example.com",
                hashed_password="x",
                is_active=True,
                is_superuser=False,
                password_changed_at=now,
                **stamps,
            )
        )
        connection.execute(
            sessions.insert().values(
                id=uuid.uuid4(),
                user_id=user_id,
                refresh_token_hash="h",
                expires_at=now,
                last_used_at=now,
                **stamps,
            )
        )


def test_existing_accounts_start_unverified_and_sessions_without_details(fresh_engine: Engine) -> None:
    config = alembic_config(fresh_engine)
    command.upgrade(config, BEFORE)
    _insert_user_and_session(fresh_engine)
    command.upgrade(config, "head")
    with fresh_engine.connect() as connection:
        assert connection.execute(text("SELECT email, is_verified FROM users")).one() == (
            "old@example.com",
            False,
        )
        assert connection.execute(text("SELECT user_agent, ip_address FROM auth_sessions")).one() == (
            None,
            None,
        )


def test_each_revision_goes_down_and_up_again(fresh_engine: Engine) -> None:
    config = alembic_config(fresh_engine)
    command.upgrade(config, "head")
    _insert_user_and_session(fresh_engine)
    command.downgrade(config, USERS_IS_VERIFIED)
    assert not {"user_agent", "ip_address"} & _columns(fresh_engine, "auth_sessions")
    assert "is_verified" in _columns(fresh_engine, "users")
    command.downgrade(config, BEFORE)
    assert "is_verified" not in _columns(fresh_engine, "users")
    command.upgrade(config, "head")
    assert {"user_agent", "ip_address"} <= _columns(fresh_engine, "auth_sessions")
    # SQLite rebuilt `users` on the way; the rows that point at it are still there.
    with fresh_engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM auth_sessions")).scalar_one() == 1
        # ...and foreign keys are enforced again afterwards: deleting the user takes its session.
        connection.execute(text("DELETE FROM users"))
        assert connection.execute(text("SELECT count(*) FROM auth_sessions")).scalar_one() == 0


def test_the_models_match_the_migrated_schema(fresh_engine: Engine) -> None:
    command.upgrade(alembic_config(fresh_engine), "head")
    with fresh_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata()) == []
