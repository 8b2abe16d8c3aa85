"""Background jobs: recorded with the change that causes them, retried with backoff, then dead."""

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from sqlmodel import Session as DBSession
from sqlmodel import select

from core.app import create_app
from core.config import Settings
from core.db import utcnow
from core.jobs import enqueue
from core.jobs.models import Job, JobStatus
from core.jobs.queue import claim, requeue_dead, succeed
from core.jobs.runner import Poller, run_due_jobs
from core.mail import MAIL_JOB, Mail, enqueue_mail
from tests.auth.lifecycle import Outbox, free_port, smtp_server
from tests.helpers import ROOT, make_settings

MAIL = Mail(to="bob@example.com", subject="Hello", body="A message that must arrive.")


@dataclass
class RefusingServer:
    """An SMTP server that takes each message and then says to try again later."""

    port: int
    refused: int = 0
    received: list[Any] = field(default_factory=list)

    async def handle_DATA(self, _server: SMTP, _session: Session, _envelope: Envelope) -> str:  # noqa: N802
        self.refused += 1
        return "451 4.3.0 Mailbox busy, try again later"


@contextmanager
def refusing_server() -> Iterator[RefusingServer]:
    server = RefusingServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(database_url: str) -> Callable[..., Settings]:
    def make(port: int, **overrides: Any) -> Settings:
        return make_settings(
            database_url,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port,
            SMTP_TLS="none",
            **overrides,
        )

    return make


def jobs(engine: Engine) -> list[Job]:
    with DBSession(engine) as session:
        return list(session.exec(select(Job)).all())


def test_a_job_exists_only_if_its_transaction_commits(
    db: DBSession, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="core.jobs.queue")
    enqueue(db, "reports.render", {"report": 1})
    db.rollback()
    assert jobs(engine) == []

    enqueue(db, "reports.render", {"report": 2})
    db.commit()
    [job] = jobs(engine)
    assert (job.kind, job.payload, job.status, job.attempts) == ("reports.render", {"report": 2}, "queued", 0)
    [enqueued] = [record.msg for record in caplog.records if record.name == "core.jobs.queue"]
    assert (enqueued["event"], enqueued["job_id"], enqueued["kind"]) == (
        "job_enqueued",
        str(job.id),
        "reports.render",
    )


async def test_the_in_process_runner_sends_a_mail_as_soon_as_its_request_commits(
    database_url: str, make_user: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    make_user("bob@example.com", is_verified=False)
    # Polling once a minute: only the wake-up of the commit can be this quick.
    app = create_app(make_settings(database_url, JOBS_POLL_SECONDS=60))
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level("INFO", logger="core.mail")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        await asyncio.sleep(0.2)  # the runner's first look at the queue, which is empty
        r = await client.post("/api/v1/auth/verify/request", json={"email": "bob@example.com"})
        assert r.status_code == 202
        deadline = time.monotonic() + 5
        while not Outbox(caplog).mails() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    [mail] = Outbox(caplog).mails()
    assert mail["to"] == "bob@example.com"
    assert jobs(app.state.engine) == []
    app.state.engine.dispose()


def test_a_queued_mail_is_sent_once_with_the_job_id_as_its_message_id(
    db: DBSession, engine: Engine, smtp_settings: Callable[..., Settings]
) -> None:
    enqueue_mail(db, MAIL)
    db.commit()
    [job] = jobs(engine)
    with smtp_server() as mailbox:
        settings = smtp_settings(mailbox.port)
        assert run_due_jobs(engine, settings) == 1
        assert run_due_jobs(engine, settings) == 0
    [(recipients, message)] = mailbox.messages
    assert recipients == ["bob@example.com"]
    assert message["Message-ID"] == f"<{job.id}@example.com>"
    # A job that succeeded leaves nothing behind, its link included.
    assert jobs(engine) == []


def test_a_mail_whose_link_has_expired_is_given_up_not_sent(
    db: DBSession, engine: Engine, smtp_settings: Callable[..., Settings]
) -> None:
    # Its server was down until after the link's expiry, say: the reader must not get a dead link.
    enqueue_mail(db, replace(MAIL, subject="Too late", expires_at=utcnow() - timedelta(seconds=1)))
    enqueue_mail(db, replace(MAIL, subject="In time", expires_at=utcnow() + timedelta(hours=1)))
    db.commit()
    with smtp_server() as mailbox:
        assert run_due_jobs(engine, smtp_settings(mailbox.port)) == 2
    assert [message["Subject"] for _, message in mailbox.messages] == ["In time"]
    [job] = jobs(engine)
    # Dead at its first attempt: no retry could make the link work again.
    assert (job.status, job.attempts, job.payload["subject"]) == (JobStatus.DEAD, 1, "Too late")
    assert job.last_error is not None
    assert job.last_error.startswith("GiveUp: the link expired at ")


def test_a_failing_smtp_server_gets_retries_with_backoff_then_the_job_is_dead(
    db: DBSession,
    engine: Engine,
    smtp_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="core.jobs.queue")
    enqueue_mail(db, MAIL)
    db.commit()
    with refusing_server() as server:
        # Backoffs of a second or more: a loaded machine's stall must not make a retry due early.
        settings = smtp_settings(server.port, JOBS_MAX_ATTEMPTS=3, JOBS_RETRY_SECONDS=1)
        delays = []
        for attempt in (1, 2, 3):
            assert run_due_jobs(engine, settings) == 1
            [job] = jobs(engine)
            assert job.attempts == attempt
            if attempt < 3:
                assert job.status == JobStatus.QUEUED
                delays.append((job.run_at - job.updated_at).total_seconds())
                # Not due again before its backoff has passed.
                assert run_due_jobs(engine, settings) == 0
                time.sleep(delays[-1] + 0.05)
    assert server.refused == 3
    assert delays == [pytest.approx(1, abs=0.1), pytest.approx(2, abs=0.1)]
    assert job.status == JobStatus.DEAD
    assert job.last_error is not None
    assert job.last_error.startswith("SMTPDataError: (451")
    events = [record.msg["event"] for record in caplog.records if record.name == "core.jobs.queue"]
    assert events.count("job_failed") == 3
    assert events[-1] == "job_dead"
    # Dead means left alone: no runner takes it again.
    assert run_due_jobs(engine, settings) == 0


def test_requeued_dead_jobs_run_again(
    db: DBSession, engine: Engine, database_url: str, smtp_settings: Callable[..., Settings]
) -> None:
    enqueue_mail(db, MAIL)
    db.commit()
    with refusing_server() as server:
        run_due_jobs(engine, smtp_settings(server.port, JOBS_MAX_ATTEMPTS=1))
    assert [job.status for job in jobs(engine)] == [JobStatus.DEAD]

    result = subprocess.run(
        [sys.executable, "-m", "core.jobs", "requeue", "mail"],
        cwd=ROOT,
        env={"DATABASE_URL": database_url, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "1 dead job(s) queued again"
    with smtp_server() as mailbox:
        assert run_due_jobs(engine, smtp_settings(mailbox.port)) == 1
    assert len(mailbox.messages) == 1
    assert jobs(engine) == []


def test_requeue_leaves_other_kinds_and_live_jobs_alone(db: DBSession, engine: Engine) -> None:
    for kind in ("mail", "reports.render"):
        enqueue(db, kind, {})
    db.commit()
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().values(status=JobStatus.DEAD))  # type: ignore[attr-defined]
        assert requeue_dead(connection, "reports.render") == 1
    assert sorted((job.kind, job.status) for job in jobs(engine)) == [
        ("mail", "dead"),
        ("reports.render", "queued"),
    ]


def test_requeue_by_id_leaves_every_other_dead_job_dead(db: DBSession, engine: Engine) -> None:
    first, second = enqueue(db, "mail", {}), enqueue(db, "mail", {})
    db.commit()
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().values(status=JobStatus.DEAD))  # type: ignore[attr-defined]
        assert requeue_dead(connection, job_id=second.id) == 1
        assert requeue_dead(connection, job_id=second.id) == 0  # queued now, not dead
    assert {job.id: job.status for job in jobs(engine)} == {first.id: "dead", second.id: "queued"}


def mark_every_job_dead(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().values(status=JobStatus.DEAD))  # type: ignore[attr-defined]


def test_the_requeue_example_queues_every_dead_job_then_one_kind_then_one_job(
    db: DBSession, engine: Engine, database_url: str
) -> None:
    # docs/examples/requeue-dead-jobs.sh, one line at a time, as docs/operate.md shows it.
    example = (ROOT / "docs" / "examples" / "requeue-dead-jobs.sh").read_text().splitlines()
    every, one_kind, one_job = [line for line in example if line and not line.startswith("#")]
    mails = [enqueue(db, "mail", {}) for _ in range(2)]
    reports = [enqueue(db, "reports.render", {}) for _ in range(2)]
    db.commit()
    env = {
        "DATABASE_URL": database_url,
        "JOB_ID": str(reports[0].id),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }

    def run_line(line: str) -> dict[uuid.UUID, str]:
        result = subprocess.run(
            ["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        return {job.id: job.status for job in jobs(engine)}

    def queued_again(*queued: Job) -> dict[uuid.UUID, str]:
        ids = {job.id for job in queued}
        return {job.id: "queued" if job.id in ids else "dead" for job in [*mails, *reports]}

    mark_every_job_dead(engine)
    assert run_line(every) == queued_again(*mails, *reports)
    mark_every_job_dead(engine)
    assert run_line(one_kind) == queued_again(*mails)
    mark_every_job_dead(engine)
    assert run_line(one_job) == queued_again(reports[0])


def test_a_job_of_no_known_kind_fails_and_is_kept(db: DBSession, engine: Engine, settings: Settings) -> None:
    enqueue(db, "nobody.handles.this", {})
    db.commit()
    run_due_jobs(engine, settings.model_copy(update={"JOBS_MAX_ATTEMPTS": 1}))
    [job] = jobs(engine)
    assert job.status == JobStatus.DEAD
    assert job.last_error == "UnknownJobKindError: no handler for job kind 'nobody.handles.this'"


def test_a_job_left_running_past_its_lease_is_run_again_and_the_late_run_cannot_finish_it(
    db: DBSession, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="core.jobs.queue")
    # Long enough that a loaded machine's stall between the two claims does not end the lease.
    leased = settings.model_copy(update={"JOBS_LEASE_SECONDS": 1.5})
    enqueue(db, "nobody.handles.this", {})
    db.commit()
    with engine.begin() as connection:
        first_run = claim(connection, leased)  # a runner that then goes quiet, as if killed
    assert first_run is not None
    assert run_due_jobs(engine, leased) == 0  # still leased to it
    time.sleep(1.6)
    with engine.begin() as connection:
        second_run = claim(connection, leased)
    assert second_run is not None
    assert (second_run.id, second_run.attempt) == (first_run.id, 2)

    with engine.begin() as connection:
        succeed(connection, first_run)  # the first runner wakes up late: the job is not its own now
    [job] = jobs(engine)
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 2)
    events = [record.msg["event"] for record in caplog.records if record.name == "core.jobs.queue"]
    assert "job_lease_lost" in events


def test_a_job_whose_last_attempt_was_cut_off_is_dead_not_run_again(
    db: DBSession, engine: Engine, settings: Settings
) -> None:
    leased = settings.model_copy(update={"JOBS_LEASE_SECONDS": 0.1, "JOBS_MAX_ATTEMPTS": 1})
    enqueue(db, "nobody.handles.this", {})
    db.commit()
    with engine.begin() as connection:
        assert claim(connection, leased) is not None
    time.sleep(0.15)
    assert run_due_jobs(engine, leased) == 0
    [job] = jobs(engine)
    assert (job.status, job.attempts, job.last_error) == (
        JobStatus.DEAD,
        1,
        "runner stopped during the last attempt",
    )


JOB_EVENTS = ("enqueued", "started", "succeeded", "failed", "retried", "dead")
JOB_METRICS = [f"jobs_{event}_total" for event in JOB_EVENTS]


def job_metrics(kind: str) -> dict[str, float]:
    names = [*JOB_METRICS, "jobs_running", "jobs_queued"]
    return {name: REGISTRY.get_sample_value(name, {"kind": kind}) or 0.0 for name in names}


def test_a_jobs_life_reaches_its_metrics_and_a_runner_reports_the_queue(
    db: DBSession, engine: Engine, smtp_settings: Callable[..., Settings]
) -> None:
    before = job_metrics(MAIL_JOB)
    enqueue_mail(db, MAIL)
    enqueue_mail(db, MAIL)
    db.commit()
    with refusing_server() as server:
        Poller(engine, smtp_settings(server.port, JOBS_RETRY_SECONDS=60), threading.Event())()
    with smtp_server() as mailbox:
        enqueue_mail(db, MAIL)
        db.commit()
        Poller(engine, smtp_settings(mailbox.port), threading.Event())()
    assert len(mailbox.messages) == 1
    after = job_metrics(MAIL_JOB)
    # Two attempts failed and wait for their retry; the third mail went out; none is running.
    assert {name: after[name] - before[name] for name in JOB_METRICS} == {
        "jobs_enqueued_total": 3,
        "jobs_started_total": 3,
        "jobs_succeeded_total": 1,
        "jobs_failed_total": 2,
        "jobs_retried_total": 2,
        "jobs_dead_total": 0,
    }
    assert (after["jobs_running"], after["jobs_queued"]) == (before["jobs_running"], 2)
