"""Migrations: they go up and down cleanly, match the models, and run from the command line."""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

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


def copy_with_a_phone_number(target: Path) -> Path:
    """What alembic needs of the project, with .venv (the example calls .venv/bin/alembic), and
    the change a developer makes before writing a migration: a column added to User."""
    for folder in ("core", "modules", "migrations"):
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", target / "alembic.ini")
    (target / ".venv").symlink_to(sys.prefix)
    users = target / "modules" / "users" / "models.py"
    declaration = "class User(Table, table=True):\n"
    assert declaration in users.read_text()
    users.write_text(users.read_text().replace(declaration, declaration + "    phone: str | None = None\n"))
    return target


def user_columns(engine: Engine) -> dict[str, bool]:
    """The users table's columns, and whether each is nullable."""
    return {column["name"]: column["nullable"] for column in inspect(engine).get_columns("users")}


def test_the_new_migration_example_writes_the_revision_a_changed_model_needs(
    tmp_path: Path, fresh_url: str, fresh_engine: Engine
) -> None:
    project = copy_with_a_phone_number(tmp_path)
    migrate(fresh_engine)
    columns_before = user_columns(fresh_engine)
    versions = project / "migrations" / "versions"
    revisions_before = set(versions.glob("*.py"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in Settings.model_fields
        and key != "PYTHONPATH"
        and not key.startswith(("COVERAGE_", "COV_CORE"))
    }

    result = subprocess.run(
        ["bash", str(ROOT / "docs" / "examples" / "new-migration.sh")],
        cwd=project,
        env={**env, "DATABASE_URL": fresh_url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    [revision] = set(versions.glob("*.py")) - revisions_before
    # alembic.ini's file_template: date, time and slug.
    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}-add_a_phone_number_to_users\.py", revision.name)
    # The revision is code: run it and the column is there, take it back and it is gone.
    config = Config(str(project / "alembic.ini"))
    config.attributes.update(engine=fresh_engine, configure_logger=False)
    command.upgrade(config, "head")
    assert user_columns(fresh_engine) == {**columns_before, "phone": True}
    command.downgrade(config, "-1")
    assert user_columns(fresh_engine) == columns_before
    assert current_revision(fresh_engine) == head()
