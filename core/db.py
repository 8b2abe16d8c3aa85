"""Engine, sessions and the columns every table shares."""

import threading
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import declared_attr
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel
from starlette.concurrency import run_in_threadpool

from core.config import Settings
from core.errors import DatabaseUnavailableError, raises
from core.naming import table_name

# Deterministic constraint names, so migrations can drop what they created on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def metadata() -> MetaData:
    return SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend; SQLite would otherwise return naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Table(SQLModel):
    """Base of every table: a UUID key, creation and update times, and a derived table name."""

    @declared_attr.directive
    def __tablename__(cls) -> str:  # noqa: N805 (a class-level attribute)
        return table_name(cls.__name__)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Each pooled connection keeps its own page cache (2 MiB by default) on top of the OS's
        # cache of the same file: 512 KiB each keeps a full pool's worth from bloating the worker.
        cursor.execute("PRAGMA cache_size=-512")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()
        # The driver opens a transaction before a connection's first write: an IMMEDIATE one
        # takes SQLite's write lock at once, so a transaction never fails half-way to upgrade.
        dbapi_connection.isolation_level = "IMMEDIATE"

    return on_connect


# What the driver opens a transaction for (sqlite3 begins one before these, and only these).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _one_writer_at_a_time(engine: Engine, wait_seconds: float) -> None:
    """Serialize this process's write transactions on a SQLite file: the pool's one write slot.

    SQLite lets one connection write at a time. Pooled connections asking at once each wait in
    the driver's busy handler, which sleeps and retries (up to 100 ms a sleep) while the lock is
    often free again within a millisecond: under 16 concurrent creates the slowest waited 600 ms.
    A thread waiting for this slot instead wakes the moment the writer before it commits. It is
    taken before a connection's first write and handed back with the connection, so reads never
    wait for it, and waited for as long as a pooled connection is (`DB_POOL_TIMEOUT_SECONDS`);
    past that the write goes ahead and SQLite decides, as without the slot. Other processes
    (workers, the jobs worker, the CLI) still meet in SQLite's own lock, within the busy timeout."""
    slot = threading.Lock()

    def before_write(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        info = connection.info
        if "writing" not in info and statement.lstrip()[:7].upper().startswith(_WRITES):
            info["writing"] = slot.acquire(timeout=wait_seconds)

    def returned(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("writing", False):
            slot.release()

    event.listen(engine, "before_cursor_execute", before_write)
    event.listen(engine.pool, "checkin", returned)


def create_db_engine(settings: Settings) -> Engine:
    """The engine for DATABASE_URL. Its errors never quote a statement's parameters (a password
    hash, a token digest), so a logged traceback cannot carry them."""
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() != "sqlite":
        # Both timeouts bound how long a request waits on a database that is down or saturated.
        connect_args = {"connect_timeout": settings.DB_CONNECT_TIMEOUT_SECONDS}
        return create_engine(
            url,
            hide_parameters=True,
            pool_size=settings.DB_POOL_SIZE,
            max_overflow=settings.DB_MAX_OVERFLOW,
            pool_timeout=settings.DB_POOL_TIMEOUT_SECONDS,
            pool_pre_ping=settings.DB_POOL_PRE_PING,
            connect_args=connect_args if url.get_backend_name() == "postgresql" else {},
        )
    pool: dict[str, Any] = {}
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Sized like PostgreSQL's: a connection opened for one request and closed after it
        # redoes the pragmas and starts with an empty page cache.
        pool = {"pool_size": settings.DB_POOL_SIZE, "max_overflow": settings.DB_MAX_OVERFLOW}
    engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True, **pool)
    event.listen(engine, "connect", _sqlite_pragmas(settings.SQLITE_BUSY_TIMEOUT_MS))
    if pool:
        _one_writer_at_a_time(engine, settings.DB_POOL_TIMEOUT_SECONDS)
    return engine


T = TypeVar("T")


class AfterCommit(Generic[T]):
    """What a session's open transaction did that the rest of the process hears of only once it
    commits (an event published, a job enqueued): `add` keeps it in the session (`session.info`
    under `key`), `committed` gets the lot after the commit, and a rollback forgets it."""

    def __init__(self, key: str, committed: Callable[[list[T]], None]) -> None:
        self._key, self._committed = key, committed
        # On SQLAlchemy's Session, so SQLModel's sessions and an async session's inner one hear it too.
        event.listen(OrmSession, "after_commit", self._after_commit)
        event.listen(OrmSession, "after_rollback", self._after_rollback)

    def add(self, session: OrmSession, item: T) -> None:
        session.info.setdefault(self._key, []).append(item)

    def _after_commit(self, session: OrmSession) -> None:
        if pending := session.info.pop(self._key, []):
            self._committed(pending)

    def _after_rollback(self, session: OrmSession) -> None:
        session.info.pop(self._key, None)


def reads_on_loop(engine: Engine) -> bool:
    """Whether a request's reads run on the event loop (`core.access.on_connection`): on a SQLite file.

    A read by primary key of a local SQLite file costs some 70 µs of CPU; sent to the threadpool
    it costs 350-730 µs (`python -m bench.lookups`: waking a worker thread and handing the GIL back
    and forth, with 1 to 16 reads in flight), several times the read. In WAL mode a reader never
    waits for a writer, so a read does not hold the loop behind a write. PostgreSQL's reads wait
    on the network, so they go to the threadpool; so does an in-memory database's (one
    connection, shared by every thread)."""
    url = engine.url
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


@raises(DatabaseUnavailableError)
async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session. Opening one does no I/O (it connects on first use), so it happens
    on the event loop, and so does closing one the handler committed or never used; closing one
    with a transaction still open rolls it back and hands the connection back, in a thread.
    As a sync dependency it would cost a trip to the threadpool each way."""
    # expire_on_commit=False: a committed object is returned as it is, without a reload query.
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]
