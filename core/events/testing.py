"""For a module's tests: which events a request published, and whether their deliveries ran.

with published_events() as events:
    r = await client.post("/api/v1/orders", json=...)
(placed,) = events.of(OrderPlaced)
assert pending_deliveries(engine) == []   # every listener has run (the test client runs them)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, select

from core.events.bus import SEPARATOR, observing
from core.events.event import Event
from core.jobs.models import Job, JobStatus

E = TypeVar("E", bound=Event)


class PublishedEvents:
    """The events committed while it records, in the order of their commits."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]


@contextmanager
def published_events() -> Iterator[PublishedEvents]:
    recorded = PublishedEvents()
    with observing(recorded.events.append):
        yield recorded


def pending_deliveries(engine: Engine) -> list[str]:
    """The deliveries not done yet (queued, running or dead), as `kind: status`."""
    jobs = Job.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(
            select(jobs.c.kind, jobs.c.status).where(
                jobs.c.kind.like(f"%{SEPARATOR}%"), jobs.c.status != JobStatus.DONE
            )
        ).all()
    return sorted(f"{row.kind}: {row.status}" for row in rows)
