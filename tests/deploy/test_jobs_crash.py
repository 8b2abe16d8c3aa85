"""A mail survives `kill -9` of the service between the commit that records it and its sending,
and reaches a real SMTP server once after the restart. On this run's database: SQLite (the
in-process runner of the only service) or PostgreSQL."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine
from sqlmodel import Session as DBSession
from sqlmodel import select

from core.db import create_db_engine
from core.jobs.models import Job, JobStatus
from modules.users.schemas import UserCreate
from modules.users.service import create_user
from tests.auth.lifecycle import free_port, smtp_server
from tests.deploy.servers import Service, service_env
from tests.helpers import PASSWORD, make_settings, migrate

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2
RESET_REQUEST = "/api/v1/auth/password-reset/request"


class StallingServer:
    """An SMTP server that takes a message whole and never answers: the sender waits for a
    "250 accepted" that does not come, which is when the test kills it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.reached_data = threading.Event()

    async def handle_DATA(self, _server: SMTP, _session: Session, _envelope: Envelope) -> str:  # noqa: N802
        self.reached_data.set()
        await asyncio.sleep(3600)
        return "250 never said"


@pytest.fixture
def database(make_database_url: Callable[[], Iterator[str]]) -> Iterator[tuple[str, Engine]]:
    """A migrated database of its own with an account, bob@example.com."""
    for url in make_database_url():
        engine = create_db_engine(make_settings(url))
        migrate(engine)
        with DBSession(engine) as session:
            user_in = UserCreate(email="bob@example.com", password=PASSWORD)
            create_user(session=session, user_in=user_in, rounds=4)
        yield url, engine
        engine.dispose()


def jobs(engine: Engine) -> list[Job]:
    with DBSession(engine) as session:
        return list(session.exec(select(Job)).all())


def test_a_mail_cut_off_by_kill_9_is_delivered_once_after_restart(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = database
    settings = {
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_TLS": "none",
        "SMTP_TIMEOUT_SECONDS": "60",
        "JOBS_LEASE_SECONDS": str(LEASE_SECONDS),
        "JOBS_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT_ENABLED": "false",
    }
    stalling = StallingServer()
    controller = Controller(stalling, hostname="127.0.0.1", port=stalling.port)
    controller.start()
    try:
        first = Service.uvicorn(
            service_env(url, SMTP_PORT=str(stalling.port), **settings), tmp_path / "1.log"
        )
        try:
            first.wait_ready()
            r = httpx.post(
                f"{first.url}/api/v1/auth/password-reset/request", json={"email": "bob@example.com"}
            )
            assert r.status_code == 202, r.text
            assert stalling.reached_data.wait(15), first.output()
            first.process.kill()  # SIGKILL: no lifespan, no cleanup, the send cut off mid-way
            first.process.wait(10)
        finally:
            first.close()
    finally:
        controller.stop()

    [job] = jobs(engine)
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)

    with smtp_server() as mailbox:
        second = Service.uvicorn(
            service_env(url, SMTP_PORT=str(mailbox.port), **settings), tmp_path / "2.log"
        )
        try:
            second.wait_ready()
            deadline = time.monotonic() + LEASE_SECONDS + 15
            while not mailbox.messages and time.monotonic() < deadline:
                time.sleep(0.1)
            # Long enough for a second delivery, were there to be one.
            time.sleep(LEASE_SECONDS + 0.5)
        finally:
            second.terminate()
        log = second.output()
    [(recipients, message)] = mailbox.messages
    assert recipients == ["bob@example.com"], log
    assert message["Subject"].startswith("Reset your password for "), message["Subject"]
    assert message["Message-ID"] == f"<{job.id}@example.com>"
    assert jobs(engine) == []
    assert "job_succeeded" in log
    assert "attempt=2" in log
