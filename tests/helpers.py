"""Helpers shared by the tests (fixtures live in conftest.py)."""

import os
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-signing"
PASSWORD = "correct horse battery"
# What UserRead shows of an account: never the password hash.
USER_READ_FIELDS = {
    "id",
    "email",
    "full_name",
    "is_active",
    "is_superuser",
    "is_verified",
    "created_at",
    "updated_at",
}


def require_server(reason: str) -> None:
    """A test that needs a server skips without it, but fails under CI, where it must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BCRYPT_ROUNDS": 4,
        "RATE_LIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


def alembic_config(engine: Engine) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["engine"] = engine
    config.attributes["configure_logger"] = False
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
