"""The `jobs` table: work recorded with the change that causes it, run after its commit."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from core.db import Table, UTCDateTime, utcnow

KIND_MAX_LENGTH = 100
ERROR_MAX_LENGTH = 2000


class JobStatus(StrEnum):
    # A job that succeeds is deleted: the table holds work to do, being done, or given up on, and
    # the deliveries of events an operator asked to keep for a while (EVENTS_KEEP_DELIVERED_HOURS).
    QUEUED = "queued"
    RUNNING = "running"
    DEAD = "dead"
    DONE = "done"


class Job(Table, table=True):
    """One unit of background work: a handler's `kind` and the JSON payload it is called with."""

    __table_args__ = (
        # The runner's one question: which queued (or abandoned running) jobs are due?
        Index("ix_jobs_status_run_at", "status", "run_at"),
    )

    kind: str = Field(max_length=KIND_MAX_LENGTH)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    # Counted when a run starts, so a run cut short by a crash counts too. It also fences a run:
    # only the runner holding the current attempt may finish the job.
    attempts: int = 0
    run_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # While running: when the run's lease ends. A runner that died (kill -9) leaves the job
    # running; past this time another runner takes it again.
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=ERROR_MAX_LENGTH)
