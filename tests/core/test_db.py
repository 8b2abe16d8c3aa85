"""The database layer: SQLite connection settings, UTC timestamps, the shared table columns."""

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, func, select, text
from sqlalchemy import Table as CoreTable

from core.db import Table, UTCDateTime, create_db_engine
from modules.auth.models import AuthSession
from modules.users.models import User
from tests.helpers import make_settings


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(make_settings(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'app.db'}"))
    yield engine
    engine.dispose()


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.execute(text(f"PRAGMA {name}")).scalar()


def test_sqlite_engine_creates_the_folder_of_its_file(tmp_path: Path, sqlite_engine: Engine) -> None:
    assert (tmp_path / "nested" / "dir").is_dir()


def test_sqlite_connections_enforce_foreign_keys(sqlite_engine: Engine) -> None:
    assert pragma(sqlite_engine, "foreign_keys") == 1


def test_sqlite_connections_use_wal(sqlite_engine: Engine) -> None:
    assert pragma(sqlite_engine, "journal_mode") == "wal"


def test_sqlite_busy_timeout_follows_the_setting(tmp_path: Path) -> None:
    engine = create_db_engine(make_settings(f"sqlite:///{tmp_path / 'a.db'}", SQLITE_BUSY_TIMEOUT_MS=1234))

    assert pragma(engine, "busy_timeout") == 1234
    engine.dispose()


def test_sqlite_writers_of_one_process_take_turns_without_waiting_in_sqlite(tmp_path: Path) -> None:
    """16 threads write at once, each transaction holding SQLite's write lock a while. SQLite's
    own wait is off (busy timeout 0), so a writer that met another's lock inside SQLite would
    fail at once ("database is locked"): every write succeeding shows they took turns before it."""
    engine = create_db_engine(make_settings(f"sqlite:///{tmp_path / 'w.db'}", SQLITE_BUSY_TIMEOUT_MS=0))
    counts = CoreTable("counts", MetaData(), Column("thread", Integer), Column("n", Integer))
    counts.create(engine)

    def write(thread: int) -> None:
        for n in range(10):
            with engine.begin() as connection:
                connection.execute(counts.insert().values(thread=thread, n=n))
                time.sleep(0.001)  # other threads ask for the lock meanwhile
                connection.execute(counts.update().where(counts.c.thread == thread).values(n=n))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, range(16)))

    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(counts)).scalar_one() == 160
    engine.dispose()


def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """A transaction that has written and not yet committed holds the write slot; a read on
    another connection meanwhile answers at once, with what was committed before."""
    engine = create_db_engine(make_settings(f"sqlite:///{tmp_path / 'r.db'}"))
    counts = CoreTable("counts", MetaData(), Column("n", Integer))
    counts.create(engine)

    def committed() -> int:
        with engine.connect() as reader:
            return reader.execute(select(func.count()).select_from(counts)).scalar_one()

    with engine.begin() as writer:
        writer.execute(counts.insert().values(n=1))
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(committed).result(timeout=2) == 0
    assert committed() == 1
    engine.dispose()


def test_sqlite_in_memory_needs_no_folder() -> None:
    engine = create_db_engine(make_settings("sqlite://"))

    assert pragma(engine, "foreign_keys") == 1
    engine.dispose()


@pytest.fixture
def stamps(sqlite_engine: Engine) -> CoreTable:
    table = CoreTable("stamps", MetaData(), Column("at", UTCDateTime))
    table.create(sqlite_engine)
    return table


def round_trip(engine: Engine, table: CoreTable, value: datetime) -> datetime:
    with engine.begin() as connection:
        connection.execute(table.insert().values(at=value))
        stored: datetime = connection.execute(select(table.c.at)).scalar_one()
    return stored


def test_utc_datetime_comes_back_aware_from_sqlite(sqlite_engine: Engine, stamps: CoreTable) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    stored = round_trip(sqlite_engine, stamps, moment)

    assert stored == moment
    assert stored.utcoffset() == timedelta(0)


def test_utc_datetime_stores_other_offsets_as_the_same_instant(
    sqlite_engine: Engine, stamps: CoreTable
) -> None:
    moment = datetime(2026, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2)))

    stored = round_trip(sqlite_engine, stamps, moment)

    assert stored == moment
    assert (stored.hour, stored.utcoffset()) == (3, timedelta(0))


def test_utc_datetime_keeps_null(sqlite_engine: Engine) -> None:
    table = CoreTable("maybe", MetaData(), Column("at", UTCDateTime, nullable=True))
    table.create(sqlite_engine)
    with sqlite_engine.begin() as connection:
        connection.execute(table.insert().values(at=None))
        assert connection.execute(select(table.c.at)).scalar_one() is None


def test_table_rows_get_an_id_and_aware_timestamps() -> None:
    user = User(email="x@example.com", hashed_password="x")

    assert isinstance(user.id, uuid.UUID)
    assert user.created_at.tzinfo is not None
    assert user.updated_at.tzinfo is not None
    assert User(email="y@example.com", hashed_password="y").id != user.id


@pytest.mark.parametrize("model", [User, AuthSession])
def test_every_table_has_the_shared_columns(model: type[Table]) -> None:
    assert issubclass(model, Table)
    assert {"id", "created_at", "updated_at"} <= set(model.__table__.columns.keys())  # type: ignore[attr-defined]
