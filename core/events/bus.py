"""Publishing and listening: the registry of who listens to what, and the deliveries between.

Each (event, listener) pair is a job kind of its own, `<module>.<Event>><module>.<function>`,
so every delivery is a job (`core.jobs`) with its own attempts, backoff, lease and dead state.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from core import metrics, tracing
from core.db import AfterCommit
from core.events.event import Event, owner
from core.jobs import GiveUp, JobContext, enqueue, handler

E = TypeVar("E", bound=Event)
Listen = Callable[[E, JobContext], None]
SEPARATOR = ">"


@dataclass(frozen=True)
class Subscription:
    event: type[Event]
    listener: str  # <module>.<function>: the listening module and the function
    function: Callable[[Any, JobContext], None]

    @property
    def kind(self) -> str:
        """The job kind of its deliveries."""
        return f"{self.event.name}{SEPARATOR}{self.listener}"


_SUBSCRIPTIONS: dict[str, list[Subscription]] = {}


def listener(event: type[E]) -> Callable[[Listen[E]], Listen[E]]:
    """Register the decorated function, in a module's `listeners.py`, to hear every `event`
    committed from now on, at least once, after the commit that published it:

        @listener(UserDeactivated)
        def end_sign_ins(event: UserDeactivated, context: JobContext) -> None: ...
    """

    def register(function: Listen[E]) -> Listen[E]:
        subscription = Subscription(event, f"{owner(function.__module__)}.{function.__name__}", function)
        known = _SUBSCRIPTIONS.setdefault(event.name, [])
        if all(existing.kind != subscription.kind for existing in known):
            known.append(subscription)
        handler(subscription.kind, keep_done=True)(_deliver(subscription))
        metrics.name_delivery(subscription.kind, event=event.name, listener=subscription.listener)
        return function

    return register


@cache
def _discovered() -> None:
    # Every process that publishes knows every listener first: an event published before the
    # listeners were imported would reach none of them. Imported here: discovery needs the app.
    from core import discovery

    discovery.import_job_handlers()


def subscriptions(event: type[Event]) -> list[Subscription]:
    _discovered()
    return list(_SUBSCRIPTIONS.get(event.name, ()))


def publish(session: Session, event: Event) -> None:
    """Record `event` in the session's open transaction, one delivery per listener, before the
    commit: committed, each listener gets it at least once; rolled back, nobody ever does.
    Where nobody listens, nothing is written. The request that publishes it (its request id and
    trace) is kept with each delivery, so the listener's logs and span lead back to it."""
    _published.add(session, event)
    listening = subscriptions(type(event))
    if not listening:
        return
    origin = {"request_id": structlog.contextvars.get_contextvars().get("request_id")}
    if traceparent := tracing.current_traceparent():
        origin["traceparent"] = traceparent
    data = {
        "name": event.name,
        "version": event.version,
        "origin": origin,
        "event": event.model_dump(mode="json"),
    }
    for subscription in listening:
        enqueue(session, subscription.kind, data)


def _deliver(subscription: Subscription) -> Callable[[dict[str, Any], JobContext], None]:
    """The job handler of one listener's deliveries."""

    def deliver(payload: dict[str, Any], context: JobContext) -> None:
        if payload["version"] != subscription.event.version:
            raise GiveUp(f"{payload['name']} v{payload['version']} is not v{subscription.event.version}")
        try:
            event = subscription.event.model_validate(payload["event"])
        except ValidationError as exc:  # no later attempt reads it better
            raise GiveUp(f"{payload['name']} does not read as {subscription.event.__name__}: {exc}") from None
        origin = payload.get("origin") or {}
        # The listener's lines carry the id of the request that caused them.
        with (
            structlog.contextvars.bound_contextvars(
                request_id=origin.get("request_id"),
                event_id=str(event.event_id),
                listener=subscription.listener,
            ),
            tracing.linked_span(context.tracer_provider, subscription.kind, origin.get("traceparent")),
        ):
            subscription.function(event, context)

    deliver.__qualname__ = f"deliver[{subscription.kind}]"
    deliver.__module__ = subscription.function.__module__
    return deliver


_observers: set[Callable[[Event], None]] = set()


@contextmanager
def observing(observe: Callable[[Event], None]) -> Iterator[None]:
    """Call `observe` with every event this process commits while in the block (tests use it)."""
    _observers.add(observe)
    try:
        yield
    finally:
        _observers.discard(observe)


def _committed(events: list[Event]) -> None:
    for event in events:
        metrics.event_published(event.name)
        for observe in list(_observers):
            observe(event)


# The events a session has published in its open transaction, counted and observed once committed.
_published = AfterCommit("core.events.published", _committed)


def delivery_kinds(*, event: str | None = None, listener: str | None = None) -> str:
    """A LIKE pattern of the job kinds of deliveries, of one event or listener or all."""
    return f"{event or '%'}{SEPARATOR}{listener or '%'}"
