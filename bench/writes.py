"""A create, written each way a request could write it, timed in-process.

`python -m bench.writes`: each alternative of issue 29 on a SQLite file and a PostgreSQL
database, 16 creates in flight on one event loop, as CPU microseconds per create (best of 5
rounds). Every alternative writes what `POST /items` writes: the row validated from its input,
the event published, one INSERT and the commit. What differs is where each step runs: on the
event loop, or in how many trips to the threadpool. docs/performance.md records the figures and
the choice.
"""

import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlmodel import Session

from bench.run import database, database_arguments
from bench.seed import migrate, seed
from core import crud
from core.config import Settings
from core.db import create_db_engine
from core.events import publish
from modules.items import service
from modules.items.events import ItemCreated
from modules.items.models import Item
from modules.items.schemas import ItemCreate, ItemRead

ROUNDS, CREATES, IN_FLIGHT = 5, 1_600, 16
BODY = {"title": "Written", "description": "in-process"}


def write(engine: Engine, owner: uuid.UUID) -> Item:
    """What the service's handler runs: `service.create_item` in a request's session."""
    with Session(engine, expire_on_commit=False) as session:
        return service.create_item(session=session, owner_id=owner, item_in=ItemCreate.model_validate(BODY))


def answer(item: Item) -> dict[str, Any]:
    """What FastAPI does with the handler's answer: validate it against the response model."""
    return ItemRead.model_validate(item, from_attributes=True).model_dump(mode="json")


def sync_handler(engine: Engine) -> Callable[[uuid.UUID], Awaitable[Any]]:
    """A `def` handler: FastAPI runs it in the threadpool, then checks its answer in a second trip."""

    async def create(owner: uuid.UUID) -> Any:
        item = await to_thread.run_sync(write, engine, owner)
        return await to_thread.run_sync(answer, item)

    return create


def one_trip(engine: Engine) -> Callable[[uuid.UUID], Awaitable[Any]]:
    """An `async def` handler that sends the write alone to the threadpool, in one trip."""

    async def create(owner: uuid.UUID) -> Any:
        return answer(await to_thread.run_sync(write, engine, owner))

    return create


def on_the_loop(engine: Engine) -> Callable[[uuid.UUID], Awaitable[Any]]:
    """The write on the event loop itself (a floor for SQLite: a busy database would stall the loop)."""

    async def create(owner: uuid.UUID) -> Any:
        return answer(write(engine, owner))

    return create


def async_engine(engine: AsyncEngine) -> Callable[[uuid.UUID], Awaitable[Any]]:
    """SQLAlchemy's async engine over an asyncio driver: every statement awaited on the loop."""
    table = crud.table_of(Item)

    async def create(owner: uuid.UUID) -> Any:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            item = Item.model_validate(ItemCreate.model_validate(BODY), update={"owner_id": owner})
            publish(session.sync_session, ItemCreated(item_id=item.id, owner_id=owner))
            await session.execute(table.insert().values({c.key: getattr(item, c.key) for c in table.c}))
            await session.commit()
        return answer(item)

    return create


def cpu_per_create(create: Callable[[uuid.UUID], Awaitable[Any]], owner: uuid.UUID) -> tuple[float, float]:
    """Best round's CPU microseconds per create, and that round's slowest create in ms."""

    async def rounds() -> tuple[float, float]:
        best, slowest = float("inf"), 0.0

        async def one(latencies: list[float]) -> None:
            for _ in range(CREATES // IN_FLIGHT):
                started = time.perf_counter()
                await create(owner)
                latencies.append(time.perf_counter() - started)

        for _ in range(ROUNDS):
            latencies: list[float] = []
            started = time.process_time()
            await asyncio.gather(*(one(latencies) for _ in range(IN_FLIGHT)))
            cpu = (time.process_time() - started) / len(latencies) * 1e6
            if cpu < best:
                best, slowest = cpu, max(latencies) * 1e3
        return best, slowest

    return asyncio.run(rounds())


def alternatives(backend: str, url: str, engine: Engine) -> dict[str, Callable[[uuid.UUID], Awaitable[Any]]]:
    found = {
        "def handler: the write, then the answer (2 trips)": sync_handler(engine),
        "async handler, the write in 1 trip": one_trip(engine),
    }
    if backend == "sqlite":
        found["async handler, the write on the loop"] = on_the_loop(engine)
        driver = "sqlite+aiosqlite"
    else:
        driver = "postgresql+psycopg_async"
    try:
        found[f"async engine ({driver.split('+')[1]}), on the loop"] = async_engine(
            create_async_engine(make_url(url).set(drivername=driver))
        )
    except ImportError as exc:
        print(f"{backend:<11}async engine: {exc.name} is not installed")
    return found


def main() -> None:
    args = database_arguments(__doc__.splitlines()[0]).parse_args()
    print(f"{'backend':<11}{'alternative':<52}{'CPU µs/create':>14}{'slowest ms':>12}")
    with tempfile.TemporaryDirectory(prefix="writes-") as tmp:
        for backend in args.backends.split(","):
            with database(backend, Path(tmp), args.postgres_url) as url:
                # The service's engine: its pool, and on SQLite its pragmas and its one writer.
                engine = create_db_engine(Settings(DATABASE_URL=url))
                migrate(engine)
                owner = seed(engine, users=10, items=1_000, owner_items=100, rounds=1).owner_id
                for label, create in alternatives(backend, url, engine).items():
                    cost, slowest = cpu_per_create(create, owner)
                    print(f"{backend:<11}{label:<52}{cost:>14.0f}{slowest:>12.1f}")
                engine.dispose()


if __name__ == "__main__":
    main()
