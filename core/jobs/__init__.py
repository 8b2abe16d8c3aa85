"""Durable background jobs: recorded in the database with the change that causes them.

    from core.jobs import JobContext, enqueue, handler

    @handler("invoices.render")                  # in modules/<feature>/jobs.py, found by discovery
    def render(payload: dict[str, Any], context: JobContext) -> None: ...

    enqueue(session, "invoices.render", {"invoice_id": str(invoice.id)})  # before session.commit()

A job runs at least once: a failure is retried with backoff, up to JOBS_MAX_ATTEMPTS, then the job
is dead (kept, logged, re-queued with `python -m core.jobs requeue`); a handler that raises
`GiveUp` makes it dead at once. While its runner lives, no other runner takes it; a runner
killed mid-run leaves it to be run again once its lease ends, so a handler may see the same job
twice and should be idempotent.
"""

from core.jobs.queue import enqueue
from core.jobs.registry import GiveUp, JobContext, handler

__all__ = ["GiveUp", "JobContext", "enqueue", "handler"]
