"""The queue's every state change, one function each, each with its log event.

    enqueue ─► queued ─claim─► running ─succeed─► (deleted)
                 ▲               │ fail
                 └── retry ◄─────┤ (attempts left: run again after a backoff)
                                 └► dead (attempts used up; kept with its last error)

A running job whose lease ends (its runner was killed) is claimed again. Claiming is one atomic
UPDATE: on PostgreSQL its row is locked with FOR UPDATE SKIP LOCKED, so runners in any number of
processes never take the same job; SQLite lets one writer in at a time, which does the same.
Each event is logged (job_enqueued, job_started, job_succeeded, job_failed, job_dead,
job_lease_lost) and counted (`core.metrics.job_event`) in the same place.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from core import metrics
from core.config import Settings
from core.db import AfterCommit, utcnow
from core.jobs.models import ERROR_MAX_LENGTH, KIND_MAX_LENGTH, Job, JobStatus

log = structlog.get_logger(__name__)
jobs = Job.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table classes


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, run_at: datetime | None = None) -> Job:
    """Record a job in the session's transaction: it exists exactly when the change that causes
    it is committed, and runs after that commit, or not before `run_at` (what expires then, say).
    `payload` must be JSON. Only `session.add`: no I/O, so it is the same call whether the
    session is sync or async."""
    if len(kind) > KIND_MAX_LENGTH:
        raise ValueError(f"job kind longer than {KIND_MAX_LENGTH} characters: {kind!r}")
    job = Job(kind=kind, payload=payload, run_at=run_at or utcnow())
    session.add(job)
    # Its id and kind now: after the commit, reading them from `job` could mean a query.
    _enqueued.add(session, (job.id, kind))
    return job


# Called after each commit (from the committing thread) that enqueued jobs: the in-process
# runners' wake-up calls, so a job starts at once rather than at the next poll.
_wakers: set[Callable[[], None]] = set()


@contextmanager
def woken_by_enqueue(wake: Callable[[], None]) -> Iterator[None]:
    """Call `wake` after each commit in this process that enqueued a job, while in the block."""
    _wakers.add(wake)
    try:
        yield
    finally:
        _wakers.discard(wake)


def _committed(enqueued: list[tuple[uuid.UUID, str]]) -> None:
    # Logged once committed: a job whose transaction rolled back was never enqueued.
    for job_id, kind in enqueued:
        log.info("job_enqueued", job_id=str(job_id), kind=kind)
        metrics.job_event(kind, "enqueued")
    for wake in list(_wakers):
        wake()


# The jobs a session has enqueued in its open transaction (their ids and kinds), known once committed.
_enqueued = AfterCommit("core.jobs.enqueued", _committed)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempt: int  # also the fence: finishing the job requires it to be unchanged


def _due(table: Any, now: datetime) -> Any:
    """Queued and due, or running on a lease that has run out."""
    return or_(
        and_(table.c.status == JobStatus.QUEUED, table.c.run_at <= now),
        and_(table.c.status == JobStatus.RUNNING, table.c.locked_until <= now),
    )


def any_due(connection: Connection) -> bool:
    """Whether there is work: a read, so an idle runner's poll takes no write lock (on SQLite,
    the one writer's lock every request would wait for)."""
    return connection.execute(select(jobs.c.id).where(_due(jobs, utcnow())).limit(1)).first() is not None


def claim(connection: Connection, settings: Settings) -> Claimed | None:
    """Take the next due job for this runner, leased for JOBS_LEASE_SECONDS; None if none is due."""
    now = utcnow()
    # An alias, so the inner SELECT reads the table on its own rather than correlating with the UPDATE.
    candidate = jobs.alias("candidate")
    next_due = (
        select(candidate.c.id)
        .where(_due(candidate, now), candidate.c.attempts < settings.JOBS_MAX_ATTEMPTS)
        .order_by(candidate.c.run_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = connection.execute(
        update(jobs)
        .where(jobs.c.id == next_due.scalar_subquery())
        .values(
            status=JobStatus.RUNNING,
            attempts=jobs.c.attempts + 1,
            locked_until=now + timedelta(seconds=settings.JOBS_LEASE_SECONDS),
        )
        .returning(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts)
    ).first()
    if row is None:
        return None
    job = Claimed(id=row.id, kind=row.kind, payload=row.payload, attempt=row.attempts)
    log.info("job_started", job_id=str(job.id), kind=job.kind, attempt=job.attempt)
    metrics.job_event(job.kind, "started")
    return job


def bury_abandoned(connection: Connection, settings: Settings) -> None:
    """A job whose every attempt ended with its runner killed is dead, not run once more."""
    rows = connection.execute(
        update(jobs)
        .where(
            jobs.c.status == JobStatus.RUNNING,
            jobs.c.locked_until <= utcnow(),
            jobs.c.attempts >= settings.JOBS_MAX_ATTEMPTS,
        )
        .values(status=JobStatus.DEAD, locked_until=None, last_error="runner stopped during the last attempt")
        .returning(jobs.c.id, jobs.c.kind, jobs.c.attempts)
    ).all()
    for row in rows:
        log.error("job_dead", job_id=str(row.id), kind=row.kind, attempts=row.attempts, error="abandoned")
        metrics.job_event(row.kind, "dead")


def _this_run(job: Claimed) -> Any:
    return and_(jobs.c.id == job.id, jobs.c.status == JobStatus.RUNNING, jobs.c.attempts == job.attempt)


def succeed(connection: Connection, job: Claimed, *, keep: bool = False) -> None:
    """The job is done: deleted, or with `keep` left as `done` until `purge_done` deletes it."""
    statement = (
        update(jobs).where(_this_run(job)).values(status=JobStatus.DONE, locked_until=None)
        if keep
        else delete(jobs).where(_this_run(job))
    )
    if connection.execute(statement).rowcount:
        log.info("job_succeeded", job_id=str(job.id), kind=job.kind, attempt=job.attempt)
        metrics.job_event(job.kind, "succeeded")
    else:
        _lease_lost(job)


def purge_done(connection: Connection, *, before: datetime) -> int:
    """Delete the jobs kept as done since before `before`; return how many."""
    deleted: int = connection.execute(
        delete(jobs).where(jobs.c.status == JobStatus.DONE, jobs.c.updated_at < before)
    ).rowcount
    return deleted


def fail(connection: Connection, job: Claimed, error: str, settings: Settings, *, retry: bool = True) -> None:
    """Count a failed attempt: run the job again after a backoff, or give up on it (when its
    attempts are used up, or `retry` is False)."""
    error = error[:ERROR_MAX_LENGTH]
    retry_at = None
    if retry and job.attempt < settings.JOBS_MAX_ATTEMPTS:
        # 1, 2, 4, 8… times the first delay: a server that is down gets time to come back.
        retry_at = utcnow() + timedelta(seconds=settings.JOBS_RETRY_SECONDS * 2 ** (job.attempt - 1))
    status = JobStatus.QUEUED if retry_at else JobStatus.DEAD
    values: dict[str, Any] = {"status": status, "locked_until": None, "last_error": error}
    if retry_at:
        values["run_at"] = retry_at
    if not connection.execute(update(jobs).where(_this_run(job)).values(**values)).rowcount:
        _lease_lost(job)
        return
    fields = {"job_id": str(job.id), "kind": job.kind, "attempt": job.attempt, "error": error}
    log.warning("job_failed", **fields, retry_at=retry_at.isoformat() if retry_at else None)
    metrics.job_event(job.kind, "failed")
    if retry_at is None:
        log.error("job_dead", **fields)
    metrics.job_event(job.kind, "retried" if retry_at else "dead")


def _lease_lost(job: Claimed) -> None:
    # The run took longer than its lease and another runner has taken the job since: whatever
    # that run does decides the job. Raise JOBS_LEASE_SECONDS above the longest run.
    log.warning("job_lease_lost", job_id=str(job.id), kind=job.kind, attempt=job.attempt)
    metrics.job_event(job.kind, "lease_lost")


def queued_by_kind(connection: Connection) -> dict[str, int]:
    """How many jobs of each kind wait to run (retries included), for the `jobs_queued` gauge."""
    queued = select(jobs.c.kind, func.count()).where(jobs.c.status == JobStatus.QUEUED)
    return dict(connection.execute(queued.group_by(jobs.c.kind)).all())


def _dead(
    kind: str | None, kinds_like: str | None, created_before: datetime | None, job_id: uuid.UUID | None
) -> list[Any]:
    found = [jobs.c.status == JobStatus.DEAD]
    if kind is not None:
        found.append(jobs.c.kind == kind)
    if kinds_like is not None:
        found.append(jobs.c.kind.like(kinds_like))
    if created_before is not None:
        found.append(jobs.c.created_at <= created_before)
    if job_id is not None:
        found.append(jobs.c.id == job_id)
    return found


def dead_jobs(
    connection: Connection, *, kinds_like: str | None = None, created_before: datetime | None = None
) -> list[Any]:
    """Dead jobs (kinds matching a LIKE pattern, made before a moment), the oldest first."""
    columns = (jobs.c.id, jobs.c.kind, jobs.c.created_at, jobs.c.attempts, jobs.c.last_error)
    found = _dead(None, kinds_like, created_before, None)
    return list(connection.execute(select(*columns).where(*found).order_by(jobs.c.created_at)).all())


def requeue_dead(
    connection: Connection,
    kind: str | None = None,
    *,
    kinds_like: str | None = None,
    created_before: datetime | None = None,
    job_id: uuid.UUID | None = None,
) -> int:
    """Give dead jobs (all; of one kind, of kinds matching a LIKE pattern, or the one `job_id`;
    made before a moment, or at any time) a fresh set of attempts, due now; return how many. A
    job that is not dead is left as it is."""
    statement = update(jobs).where(*_dead(kind, kinds_like, created_before, job_id))
    count: int = connection.execute(
        statement.values(status=JobStatus.QUEUED, attempts=0, run_at=utcnow())
    ).rowcount
    log.info("jobs_requeued", count=count, kind=kind or kinds_like, job_id=str(job_id) if job_id else None)
    return count
