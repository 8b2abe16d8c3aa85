"""The jobs view: what waits, runs and died, with its error, attempts and next run; a dead job
queued again; and no working link of a mail shown."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.jobs import enqueue
from core.jobs.models import Job, JobStatus
from core.mail import Mail, enqueue_mail
from tests.admin.helpers import SAME_ORIGIN

LINK = "http://localhost:3000/reset-password?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def dead(db: Session, job: Job, error: str = "SMTPServerDisconnected: gone") -> Job:
    job.status, job.attempts, job.last_error = JobStatus.DEAD, 8, error
    db.add(job)
    db.commit()
    return job


async def requeue(client, token, job):
    r = await client.post(f"/admin/job/run/requeue/{job.id}", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert r.status_code == 303
    return (await client.get(r.headers["location"])).text


async def test_the_list_shows_status_error_attempts_and_next_run(client, token, db):
    dead(db, enqueue(db, "reports.render", {"report_id": "r-1"}), error="ValueError: no such report")
    enqueue(db, "reports.render", {"report_id": "r-2"})
    db.commit()
    page = (await client.get("/admin/job/list?status=dead")).text
    assert "ValueError: no such report" in page
    assert "Next run" in page
    assert page.count("reports.render") >= 1
    assert "r-2" not in (await client.get("/admin/job/list?status=dead")).text


async def test_a_dead_job_is_queued_again_with_fresh_attempts(client, token, db, engine: Engine):
    job = dead(db, enqueue(db, "reports.render", {}))
    page = await requeue(client, token, job)
    assert "Queued again" in page
    db.refresh(job)
    # Fresh attempts: the test client's runner may have tried it once since (no handler: retried).
    assert job.status == JobStatus.QUEUED
    assert job.attempts <= 1
    assert 'value="requeue"' not in (await client.get(f"/admin/job/details/{job.id}")).text


async def test_a_job_that_is_not_dead_is_not_queued_again(client, token, db):
    job = enqueue(db, "reports.render", {})
    db.commit()
    assert "not for this row as it is now" in await requeue(client, token, job)


async def test_a_mails_link_is_never_shown(client, token, db):
    enqueue_mail(db, Mail(to="alice@example.com", subject="Reset", body=f"Open {LINK} within 30 minutes"))
    db.commit()
    (job,) = db.exec(select(Job)).all()
    page = (await client.get(f"/admin/job/details/{job.id}")).text
    assert "alice@example.com" in page
    assert "eyJhbGci" not in page
    assert "token=[hidden]" in page
