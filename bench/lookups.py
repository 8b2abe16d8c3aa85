"""The caller and the row, loaded each way a request could load them, timed in-process.

`python -m bench.lookups`: each alternative of issue 20 on a seeded SQLite file and PostgreSQL
database (the bench's seed, smaller), as CPU microseconds per read (best of 5 rounds): what a
read by id pays for its data before the framework, the log and the network add theirs. Then the
price of a threadpool trip with 16 reads in flight, which decides how many trips a request may
make. docs/performance.md records the figures and the choice.
"""

import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine, bindparam, create_engine, lambda_stmt, select
from sqlmodel import Session, col

from bench.run import database, database_arguments
from bench.seed import migrate, seed
from core import access, crud
from modules.items.models import Item
from modules.users.api import OWNED
from modules.users.models import User

ROUNDS, READS = 5, 2_000


def orm_two_gets(engine: Engine, caller: uuid.UUID, row: uuid.UUID) -> Any:
    """The shape before: a session, the account by primary key, then the item, then close."""
    with Session(engine) as session:
        user = session.get(User, caller)
        assert user is not None
        assert user.is_active
        return session.get(Item, row)


def orm_one_statement(engine: Engine, caller: uuid.UUID, row: uuid.UUID) -> Any:
    """Both as ORM instances from one joined statement."""
    statement = select(User, Item).outerjoin(Item, col(Item.id) == row).where(col(User.id) == caller)
    with Session(engine) as session:
        return session.execute(statement).first()


def core_statement(engine: Engine, caller: uuid.UUID, row: uuid.UUID) -> Any:
    """What `crud.scoped` runs: one cached Core statement, then a detached instance."""
    statement = crud._with_caller(Item, OWNED)
    found = access.with_connection(
        engine, lambda c: c.execute(statement, {"caller": caller, "row_id": row}).first()
    )
    assert found is not None
    return crud.detached(Item, found)


def core_lambda(engine: Engine, caller: uuid.UUID, row: uuid.UUID) -> Any:
    """The same statement built through `lambda_stmt` (its construction cached as well)."""
    items, accounts = crud.table_of(Item), access.accounts()
    statement = lambda_stmt(
        lambda: (
            select(*items.c, *access.standing(accounts))
            .select_from(accounts)
            .outerjoin(items, items.c.id == bindparam("row_id"))
            .where(accounts.c.id == bindparam("caller"))
        )
    )
    with engine.connect() as connection:
        found = connection.execute(statement, {"caller": caller, "row_id": row}).first()
    assert found is not None
    return crud.detached(Item, found)


ALTERNATIVES: dict[str, Callable[[Engine, uuid.UUID, uuid.UUID], Any]] = {
    "ORM: Session, get(User), get(Item), close": orm_two_gets,
    "ORM: one select(User, Item) joined": orm_one_statement,
    "Core: crud.scoped's statement, detached instance": core_statement,
    "Core: the same as lambda_stmt": core_lambda,
}


def cpu_per_call(call: Callable[[], Any], count: int) -> float:
    """Best round's CPU microseconds per call."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(count):
            call()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def trip_cost(engine: Engine, caller: uuid.UUID, row: uuid.UUID, *, trips: int) -> float:
    """CPU microseconds per read, 16 reads in flight, each `crud.scoped`'s read in the threadpool
    and `trips - 1` more trips that do nothing: the difference prices a trip under load."""
    in_flight = 16

    async def requests() -> float:
        async def one() -> None:
            for _ in range(READS // in_flight):
                await to_thread.run_sync(core_statement, engine, caller, row)
                for _ in range(trips - 1):
                    await to_thread.run_sync(int)

        started = time.process_time()
        await asyncio.gather(*(one() for _ in range(in_flight)))
        return (time.process_time() - started) / (READS // in_flight * in_flight) * 1e6

    return min(asyncio.run(requests()) for _ in range(ROUNDS))


def main() -> None:
    args = database_arguments(__doc__.splitlines()[0]).parse_args()
    print(f"{'backend':<11}{'alternative':<50}{'CPU µs/read':>12}")
    with tempfile.TemporaryDirectory(prefix="lookups-") as tmp:
        for backend in args.backends.split(","):
            with database(backend, Path(tmp), args.postgres_url) as url:
                engine = create_engine(url)
                migrate(engine)
                seeded = seed(engine, users=100, items=5_000, owner_items=500, rounds=4)
                caller, row = seeded.owner_id, seeded.owner_item_ids[0]
                for label, load in ALTERNATIVES.items():
                    assert load(engine, caller, row) is not None
                    cost = cpu_per_call(partial(load, engine, caller, row), READS)
                    print(f"{backend:<11}{label:<50}{cost:>12.0f}")
                for trips in (1, 2, 3):
                    label = f"Core read in {trips} threadpool trip(s), 16 in flight"
                    print(f"{backend:<11}{label:<50}{trip_cost(engine, caller, row, trips=trips):>12.0f}")
                engine.dispose()


if __name__ == "__main__":
    main()
