"""Migrations: they go up and down cleanly, match the models, and run from the command line."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from core import discovery
from core.config import Settings
from core.db import create_db_engine, metadata
from tests.helpers import ROOT, alembic_config, make_settings, migrate


@pytest.fixture
def fresh_url(make_database_url: Callable[[], Iterator[str]]) -> Iterator[str]:
    yield from make_database_url()


@pytest.fixture
def fresh_engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_db_engine(make_settings(fresh_url))
    yield engine
    engine.dispose()


def model_tables() -> set[str]:
    """The tables the migrations must create: the ones every service has, and every model's."""
    discovery.import_models()
    return {"users", "auth_sessions"} | set(metadata().tables)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))


def head() -> str | None:
    return scripts().get_current_head()


def test_upgrade_downgrade_upgrade(fresh_engine: Engine) -> None:
    migrate(fresh_engine)
    assert tables(fresh_engine) == model_tables()
    assert current_revision(fresh_engine) == head()

    command.downgrade(alembic_config(fresh_engine), "base")
    assert tables(fresh_engine) == set()
    assert current_revision(fresh_engine) is None

    migrate(fresh_engine)
    assert tables(fresh_engine) == model_tables()


def test_every_revision_downgrades_one_step(fresh_engine: Engine) -> None:
    migrate(fresh_engine)
    revisions = list(scripts().walk_revisions())

    for revision in revisions:
        assert current_revision(fresh_engine) == revision.revision
        command.downgrade(alembic_config(fresh_engine), "-1")

    assert current_revision(fresh_engine) is None


def test_models_and_migrations_do_not_drift(fresh_engine: Engine) -> None:
    migrate(fresh_engine)
    discovery.import_models()

    with fresh_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, metadata())

    assert diff == []


def test_alembic_command_line_upgrades_the_database_in_database_url(
    fresh_url: str, fresh_engine: Engine
) -> None:
    env = {key: value for key, value in os.environ.items() if key not in Settings.model_fields}

    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": fresh_url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert tables(fresh_engine) == model_tables()
    assert current_revision(fresh_engine) == head()
