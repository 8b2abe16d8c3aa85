"""Instances that start together all run `alembic upgrade head`: on PostgreSQL they take turns."""

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import inspect, text

from core import discovery
from core.db import create_db_engine, metadata
from tests.helpers import make_settings, migrate

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

MIGRATION_LOCK_KEY = 7_214_530_417  # the key migrations/env.py locks


def test_a_migration_waits_while_another_instance_migrates(make_postgres_database: Callable[[], str]) -> None:
    engine = create_db_engine(make_settings(make_postgres_database()))
    other_instance = engine.connect()
    other_instance.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    upgrade = threading.Thread(target=migrate, args=(engine,))
    upgrade.start()
    upgrade.join(1)
    assert upgrade.is_alive()
    assert "users" not in inspect(engine).get_table_names()

    other_instance.commit()  # the other instance is done
    upgrade.join(30)
    assert not upgrade.is_alive()
    discovery.import_models()
    assert {"users", "auth_sessions", *metadata().tables} <= set(inspect(engine).get_table_names())
    other_instance.close()
    engine.dispose()
