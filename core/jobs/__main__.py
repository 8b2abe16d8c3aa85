"""`python -m core.jobs worker`: run jobs in a process of its own, until SIGTERM or SIGINT.
`python -m core.jobs requeue [KIND] [--id JOB_ID]`: give dead jobs another set of attempts.

Production runs workers beside the web processes, which then set JOBS_IN_PROCESS=false. Any number
may run, on any machine sharing the database; on PostgreSQL none takes a job another holds.
"""

import argparse
import signal
import threading
import uuid
from types import FrameType

import structlog

from core import metrics, tracing
from core.config import get_settings
from core.db import create_db_engine
from core.jobs.queue import requeue_dead
from core.jobs.runner import Poller
from core.logging import configure_logging

log = structlog.get_logger("core.jobs.worker")


def worker() -> None:
    settings = get_settings()
    settings.refuse_unsafe_production()
    configure_logging(settings)
    engine = create_db_engine(settings)
    if settings.METRICS_ENABLED:
        # Its own listener: a worker beside the service on one host needs another METRICS_PORT.
        metrics.serve(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        # The job in hand finishes first; a second signal does not hurry it (kill -9 does, and
        # the job runs again once its lease ends).
        log.info("job_worker_stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("job_runner_started", mode="worker")
    tracer_provider = tracing.tracer_provider(settings)
    if tracer_provider is not None:
        tracing.trace_engine(engine, tracer_provider)
    poll = Poller(engine, settings, stop, tracer_provider)
    while not stop.is_set():
        poll()
        stop.wait(settings.JOBS_POLL_SECONDS)
    engine.dispose()
    if tracer_provider is not None:
        tracer_provider.shutdown()
    log.info("job_worker_stopped")


def requeue(kind: str | None, job_id: uuid.UUID | None) -> None:
    settings = get_settings()
    configure_logging(settings)
    engine = create_db_engine(settings)
    with engine.begin() as connection:
        count = requeue_dead(connection, kind, job_id=job_id)
    engine.dispose()
    print(f"{count} dead job(s) queued again")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m core.jobs", description="Background jobs.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("worker", help="run jobs until SIGTERM")
    requeue_parser = commands.add_parser("requeue", help="queue dead jobs again")
    requeue_parser.add_argument("kind", nargs="?", help="only jobs of this kind")
    requeue_parser.add_argument("--id", type=uuid.UUID, dest="job_id", help="only this job")
    arguments = parser.parse_args()
    if arguments.command == "worker":
        worker()
    else:
        requeue(arguments.kind, arguments.job_id)


if __name__ == "__main__":
    main()
