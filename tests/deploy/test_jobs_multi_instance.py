"""Two processes running jobs from one PostgreSQL queue: a service (its in-process runner) and
`python -m core.jobs worker`. 200 mails reach a real SMTP server once each: claiming with
FOR UPDATE SKIP LOCKED gives every job to exactly one of them."""

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from core.db import create_db_engine
from core.jobs.models import Job
from core.mail import Mail, enqueue_mail
from tests.auth.lifecycle import smtp_server
from tests.deploy.servers import Service, service_env
from tests.helpers import ROOT, make_settings

pytestmark = pytest.mark.slow

JOBS = 200


def test_two_instances_deliver_each_of_200_mails_exactly_once(postgres_url: str, tmp_path: Path) -> None:
    engine = create_db_engine(make_settings(postgres_url))
    with smtp_server() as mailbox:
        env = service_env(
            postgres_url,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(mailbox.port),
            SMTP_TLS="none",
            JOBS_POLL_SECONDS="0.05",
            LOG_LEVEL="INFO",
        )
        service = Service.uvicorn(env, tmp_path / "service.log")
        worker_log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "core.jobs", "worker"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        try:
            service.wait_ready()
            deadline = time.monotonic() + 30
            while "job_runner_started" not in (worker_output := (tmp_path / "worker.log").read_text()):
                assert worker.poll() is None, worker_output
                assert time.monotonic() < deadline, worker_output
                time.sleep(0.1)
            with Session(engine) as session:
                for n in range(JOBS):
                    enqueue_mail(session, Mail(to=f"user{n}@example.com", subject=f"Mail {n}", body="Hello"))
                session.commit()
            deadline = time.monotonic() + 120
            while len(mailbox.messages) < JOBS and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)  # any second delivery would come now
        finally:
            worker.terminate()
            assert worker.wait(30) == 0  # SIGTERM: the job in hand finishes, then a clean exit
            worker_log.close()
            service.terminate()
        with Session(engine) as session:
            left = session.exec(select(Job)).all()
        engine.dispose()

    delivered = Counter(recipient for recipients, _ in mailbox.messages for recipient in recipients)
    assert delivered == Counter({f"user{n}@example.com": 1 for n in range(JOBS)})
    assert len({message["Message-ID"] for _, message in mailbox.messages}) == JOBS
    assert list(left) == []
    # Both took part: the queue was shared, not drained by whichever started first.
    by_worker = (tmp_path / "worker.log").read_text().count("job_succeeded")
    by_service = service.output().count("job_succeeded")
    assert by_worker + by_service == JOBS
    assert by_worker > 0, by_service
    assert by_service > 0, by_worker
