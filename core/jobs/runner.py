"""Running jobs: one loop shared by the in-process runner (an asyncio task in the service,
the default) and `python -m core.jobs worker` (a process of its own, for production).

Every database call and every handler runs in a thread, never on the event loop.
"""

import asyncio
import contextlib
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from core import discovery, metrics
from core.config import Settings
from core.db import utcnow
from core.jobs import queue
from core.jobs.queue import woken_by_enqueue
from core.jobs.registry import GiveUp, JobContext, UnknownJobKindError, handler_for, keeps_done

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.get_logger(__name__)
# How often a runner deletes the done jobs kept past EVENTS_KEEP_DELIVERED_HOURS.
PURGE_EVERY_SECONDS = 60.0


def run_one(engine: Engine, settings: Settings, tracer_provider: "TracerProvider | None" = None) -> bool:
    """Claim one due job and run it; False when none was due."""
    with engine.connect() as connection:
        if not queue.any_due(connection):
            return False
    with engine.begin() as connection:
        queue.bury_abandoned(connection, settings)
        job = queue.claim(connection, settings)
    if job is None:
        return False
    # Committed before the handler runs, so the lease holds however long the run takes.
    try:
        handler = handler_for(job.kind)
        context = JobContext(job.id, job.attempt, settings, engine, tracer_provider)
        handler(job.payload, context)
    except GiveUp as exc:
        with engine.begin() as connection:
            queue.fail(connection, job, f"{type(exc).__name__}: {exc}", settings, retry=False)
    except Exception as exc:  # a handler's failure is the job's, never the runner's
        if not isinstance(exc, OSError | UnknownJobKindError):
            # An I/O error says all there is to say; anything else is a bug worth its traceback.
            log.exception("job_raised", job_id=str(job.id), kind=job.kind)
        with engine.begin() as connection:
            queue.fail(connection, job, f"{type(exc).__name__}: {exc}", settings)
    else:
        keep = settings.EVENTS_KEEP_DELIVERED_HOURS > 0 and keeps_done(job.kind)
        with engine.begin() as connection:
            queue.succeed(connection, job, keep=keep)
    return True


def run_due_jobs(
    engine: Engine,
    settings: Settings,
    stop: threading.Event | None = None,
    tracer_provider: "TracerProvider | None" = None,
) -> int:
    """Run jobs until none is due (or `stop` is set); return how many ran."""
    discovery.import_job_handlers()
    ran = 0
    while not (stop and stop.is_set()) and run_one(engine, settings, tracer_provider):
        ran += 1
    return ran


class Poller:
    """One look at the queue per call, running what is due. A database that is down is logged
    once when the outage starts and once when it ends, not with a traceback at every poll."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        stop: threading.Event,
        tracer_provider: "TracerProvider | None" = None,
    ) -> None:
        self._engine, self._settings, self._stop = engine, settings, stop
        self._tracer_provider = tracer_provider
        self._database_down = False
        self._kinds_queued: set[str] = set()
        self._purged_at = 0.0

    def __call__(self) -> None:
        try:
            run_due_jobs(self._engine, self._settings, self._stop, self._tracer_provider)
            if self._settings.METRICS_ENABLED:
                self._count_queued()
            self._purge()
        except OperationalError as exc:  # refused, timed out, dropped: try again at the next poll
            if not self._database_down:
                error = str(exc.orig or exc).strip().splitlines()[0]
                log.warning("job_runner_database_unavailable", error=error)
            self._database_down = True
            return
        except Exception:  # a bug in the runner itself; the next poll may still succeed
            log.exception("job_runner_error")
            return
        if self._database_down:
            log.info("job_runner_database_recovered")
        self._database_down = False

    def _purge(self) -> None:
        hours = self._settings.EVENTS_KEEP_DELIVERED_HOURS
        if not hours or time.monotonic() - self._purged_at < PURGE_EVERY_SECONDS:
            return
        with self._engine.begin() as connection:
            purged = queue.purge_done(connection, before=utcnow() - timedelta(hours=hours))
        self._purged_at = time.monotonic()
        if purged:
            log.info("jobs_purged", count=purged, kept_hours=hours)

    def _count_queued(self) -> None:
        with self._engine.connect() as connection:
            counts = queue.queued_by_kind(connection)
        # A kind whose queue has emptied reads 0, not its last count.
        self._kinds_queued |= counts.keys()
        for kind in self._kinds_queued:
            metrics.jobs_queued(kind, counts.get(kind, 0))


class InProcessRunner:
    """Runs due jobs inside the service: woken by commits that enqueue, and every
    JOBS_POLL_SECONDS for retries and for jobs other processes enqueued."""

    def __init__(
        self, engine: Engine, settings: Settings, tracer_provider: "TracerProvider | None" = None
    ) -> None:
        self._engine, self._settings, self._tracer_provider = engine, settings, tracer_provider
        self._stop = threading.Event()
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(loop), name="jobs-runner")
        log.info("job_runner_started", mode="in-process")

    async def stop(self) -> None:
        """Let the job in hand finish (its handler cannot be interrupted), then return."""
        self._stop.set()
        self._woken.set()
        if self._task is not None:
            await self._task

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        def wake() -> None:
            loop.call_soon_threadsafe(self._woken.set)

        poll = Poller(self._engine, self._settings, self._stop, self._tracer_provider)
        with woken_by_enqueue(wake):
            while not self._stop.is_set():
                self._woken.clear()
                await asyncio.to_thread(poll)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), timeout=self._settings.JOBS_POLL_SECONDS)
