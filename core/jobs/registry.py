"""Job kinds and the functions that run them: `@handler("kind")` registers one.

A handler is a plain sync function of the payload (and the run's `JobContext`). It runs outside
any request, off the event loop, perhaps more than once (see `core.jobs`): make it idempotent,
or give what it does an idempotency key (the mail handler's Message-ID is the job's id).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


@dataclass(frozen=True)
class JobContext:
    job_id: uuid.UUID
    attempt: int  # 1 on the first run
    settings: Settings
    engine: Engine
    # The process's traces, when tracing is on: work done for a request links its span to it.
    tracer_provider: "TracerProvider | None" = None

    def session(self) -> Session:
        """A session of its own for the handler's reads and writes (`with context.session() as s:`);
        what it commits is the handler's, whatever becomes of the job."""
        return Session(self.engine, expire_on_commit=False)


Handler = Callable[[dict[str, Any], JobContext], None]

_HANDLERS: dict[str, Handler] = {}
# Kinds whose done jobs are worth keeping a while when the operator asks (event deliveries).
_KEPT: set[str] = set()


class UnknownJobKindError(LookupError):
    pass


class GiveUp(Exception):  # noqa: N818 (an instruction to the runner, not a fault)
    """Raised by a handler when no later attempt can succeed: the job is dead at once, with this
    message as its error, rather than retried until its attempts run out."""


def handler(kind: str, *, keep_done: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated function as the one that runs jobs of `kind`. With `keep_done`, a
    job done is kept for EVENTS_KEEP_DELIVERED_HOURS when that is set, rather than deleted."""

    def register(function: Handler) -> Handler:
        existing = _HANDLERS.get(kind)
        if existing is not None and _name(existing) != _name(function):
            raise ValueError(f"job kind {kind!r} already runs {_name(existing)}, not {_name(function)}")
        _HANDLERS[kind] = function
        if keep_done:
            _KEPT.add(kind)
        return function

    return register


def keeps_done(kind: str) -> bool:
    return kind in _KEPT


def _name(function: Handler) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def handler_for(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownJobKindError(f"no handler for job kind {kind!r}") from None


def kinds() -> list[str]:
    return sorted(_HANDLERS)
