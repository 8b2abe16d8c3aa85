"""Alembic environment: the tables come from discovery, the URL from the service's settings."""

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Engine, text

from core import discovery
from core.config import get_settings
from core.db import UTCDateTime, create_db_engine, metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

discovery.import_models()
target_metadata = metadata()
# Any fixed number: it names the advisory lock every instance takes while migrating.
MIGRATION_LOCK_KEY = 7_214_530_417


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations stay independent of application code: our UTC type is stored as a plain
    # timezone-aware DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only change tables by copying them
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=get_settings().DATABASE_URL, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Tests hand over their own engine; otherwise the service's settings decide.
    engine: Engine = config.attributes.get("engine") or create_db_engine(get_settings())
    with engine.connect() as connection:
        # SQLite alters a table by copying it and dropping the original; with foreign keys
        # enforced, that drop would cascade and delete every row that points at the table.
        # The pragma only takes effect outside a transaction, hence before and after.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            if connection.dialect.name == "postgresql":
                # Instances starting together migrate one after the other; the later ones find
                # nothing left to do. The lock ends with the migration's transaction.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
