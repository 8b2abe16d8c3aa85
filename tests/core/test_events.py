"""Events through the publication registry: a delivery per listener written in the publishing
transaction, each with its own retries, dead state and resubmission, traced back to its request.

The events and listeners here are the tests' own, registered like any module's."""

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select
from sqlmodel import Session

from core.config import Settings
from core.db import utcnow
from core.events import Event, listener, publish
from core.events.testing import pending_deliveries, published_events
from core.jobs import JobContext
from core.jobs.models import Job, JobStatus
from core.jobs.queue import purge_done
from core.jobs.runner import run_due_jobs, run_one
from tests.helpers import ROOT

heard: list[tuple[str, uuid.UUID, int]] = []  # (listener, event id, attempt)
failing: set[str] = set()  # listeners that raise while named here


class Pinged(Event):
    target: str


class Unheard(Event):
    target: str


class Reshaped(Event):
    version = 2
    target: str


def _hear(name: str, event: Event, context: JobContext) -> None:
    heard.append((name, event.event_id, context.attempt))
    structlog.get_logger("tests.events").info("heard", listener=name)
    if name in failing:
        raise RuntimeError(f"{name} is failing")


@listener(Pinged)
def first(event: Pinged, context: JobContext) -> None:
    _hear("first", event, context)


@listener(Pinged)
def second(event: Pinged, context: JobContext) -> None:
    _hear("second", event, context)


@listener(Reshaped)
def reader_of_version_two(event: Reshaped, context: JobContext) -> None:
    _hear("reshaped", event, context)


FIRST = "tests.core.test_events.first"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    heard.clear()
    failing.clear()
    yield
    heard.clear()
    failing.clear()


@pytest.fixture
def retrying(settings: Settings) -> Settings:
    """Retries due at once (a copy is not validated, so no backoff at all), two attempts in all."""
    return settings.model_copy(update={"JOBS_RETRY_SECONDS": 0, "JOBS_MAX_ATTEMPTS": 2})


def ping(engine: Engine, target: str = "a", *, commit: bool = True) -> Pinged:
    event = Pinged(target=target)
    with Session(engine) as session:
        publish(session, event)
        session.commit() if commit else session.rollback()
    return event


def deliveries(engine: Engine) -> list[tuple[str, str, int]]:
    with Session(engine) as session:
        jobs = session.exec(select(Job.kind, Job.status, Job.attempts).order_by(Job.kind)).all()  # type: ignore[call-overload]
    return [tuple(row) for row in jobs]


def test_a_commit_writes_one_delivery_per_listener_and_each_hears_the_event_once(
    engine: Engine, settings: Settings
) -> None:
    event = ping(engine)
    kinds = [kind for kind, _status, _attempts in deliveries(engine)]

    assert run_due_jobs(engine, settings) == 2
    assert sorted(kinds) == [f"{Pinged.name}>{FIRST}", f"{Pinged.name}>tests.core.test_events.second"]
    assert sorted(heard) == [("first", event.event_id, 1), ("second", event.event_id, 1)]
    assert deliveries(engine) == []


def test_a_rolled_back_publish_delivers_nothing(engine: Engine, settings: Settings) -> None:
    ping(engine, commit=False)

    assert deliveries(engine) == []
    assert run_due_jobs(engine, settings) == 0
    assert heard == []


def test_where_nobody_listens_nothing_is_written(engine: Engine) -> None:
    with Session(engine) as session:
        publish(session, Unheard(target="nobody"))
        session.commit()

    assert deliveries(engine) == []


def test_one_failing_listener_neither_blocks_nor_repeats_another(engine: Engine, retrying: Settings) -> None:
    failing.add("first")
    event = ping(engine)

    run_due_jobs(engine, retrying)  # first fails twice and is dead; second hears it once
    assert sorted(heard) == [
        ("first", event.event_id, 1),
        ("first", event.event_id, 2),
        ("second", event.event_id, 1),
    ]
    assert deliveries(engine) == [(f"{Pinged.name}>{FIRST}", JobStatus.DEAD, 2)]


def test_dead_deliveries_are_listed_and_resubmitted_by_listener(
    engine: Engine, retrying: Settings, database_url: str
) -> None:
    failing.add("first")
    event = ping(engine)
    run_due_jobs(engine, retrying)
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}

    def events_command(*args: str) -> str:
        command = [sys.executable, "-m", "core.events", *args]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        return result.stdout

    listed = events_command("dead", "--listener", FIRST)
    assert f"{Pinged.name}>{FIRST}" in listed
    assert "RuntimeError: first is failing" in listed
    assert listed.splitlines()[-1] == "1 dead deliveries"
    assert events_command("dead", "--listener", "tests.core.test_events.second").splitlines() == [
        "0 dead deliveries"
    ]
    assert events_command("dead", "--event", Pinged.name, "--older-than", "1h") == "0 dead deliveries\n"

    failing.clear()
    assert events_command("resubmit", "--event", Pinged.name) == "1 dead deliveries resubmitted\n"
    run_due_jobs(engine, retrying)
    assert heard[-1] == ("first", event.event_id, 1)
    assert deliveries(engine) == []


def test_an_event_of_another_version_is_dead_at_once(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        publish(session, Reshaped(target="x"))
        session.commit()
    jobs = Job.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:  # as a publisher running an older release wrote it
        (job_id, payload) = connection.execute(select(jobs.c.id, jobs.c.payload)).one()
        connection.execute(jobs.update().where(jobs.c.id == job_id).values(payload={**payload, "version": 1}))

    run_due_jobs(engine, settings)

    assert heard == []
    ((_kind, status, attempts),) = deliveries(engine)
    assert (status, attempts) == (JobStatus.DEAD, 1)


def test_kept_deliveries_stay_done_until_purged(engine: Engine, settings: Settings) -> None:
    keeping = settings.model_copy(update={"EVENTS_KEEP_DELIVERED_HOURS": 1})
    ping(engine)

    run_due_jobs(engine, keeping)
    assert {status for _kind, status, _attempts in deliveries(engine)} == {JobStatus.DONE}
    assert pending_deliveries(engine) == []
    with engine.begin() as connection:
        assert purge_done(connection, before=utcnow() - timedelta(hours=1)) == 0
        assert purge_done(connection, before=utcnow() + timedelta(seconds=1)) == 2
    assert deliveries(engine) == []


def test_the_listener_is_traced_as_a_link_to_the_request_and_logs_its_request_id(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tests.events")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with (
        structlog.contextvars.bound_contextvars(request_id="req-123"),
        provider.get_tracer("test").start_as_current_span("POST /api/v1/pings") as request,
    ):
        ping(engine)
    request_trace = request.get_span_context().trace_id

    while run_one(engine, settings, provider):
        pass

    spans = [span for span in exporter.get_finished_spans() if span.name.startswith(Pinged.name)]
    assert len(spans) == 2
    for span in spans:
        assert span.context.trace_id != request_trace  # a trace of its own...
        assert [link.context.trace_id for link in span.links] == [request_trace]  # ...linked to the request's
    lines = [record.msg for record in caplog.records if record.name == "tests.events"]
    assert [(line["event"], line["request_id"]) for line in lines] == [("heard", "req-123")] * 2


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_events_published_and_deliveries_by_outcome_are_counted(engine: Engine, retrying: Settings) -> None:
    failing.add("first")
    published = _sample("events_published_total", event=Pinged.name)
    outcome = {"event": Pinged.name, "listener": FIRST}
    failed, dead = (_sample("event_deliveries_total", **outcome, outcome=name) for name in ("failed", "dead"))
    second = {"event": Pinged.name, "listener": "tests.core.test_events.second", "outcome": "succeeded"}
    succeeded = _sample("event_deliveries_total", **second)

    ping(engine)
    run_due_jobs(engine, retrying)

    assert _sample("events_published_total", event=Pinged.name) == published + 1
    assert _sample("event_deliveries_total", **outcome, outcome="failed") == failed + 2
    assert _sample("event_deliveries_total", **outcome, outcome="dead") == dead + 1
    assert _sample("event_deliveries_total", **second) == succeeded + 1


async def test_a_request_that_deactivates_an_account_publishes_it_and_auth_hears_it(
    app: FastAPI,
    client: Any,
    make_user: Any,
    superuser_headers: dict[str, str],
    headers_for: Any,
    engine: Engine,
) -> None:
    from modules.users.events import UserDeactivated

    bob = make_user("bob@example.com")
    headers_for(bob)  # a session of bob's
    with published_events() as events:
        r = await client.patch(
            f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=superuser_headers
        )
    assert r.status_code == 200, r.text

    assert [event.user_id for event in events.of(UserDeactivated)] == [bob.id]
    assert pending_deliveries(engine) == []  # the test client ran every delivery
    r = await client.get("/api/v1/auth/sessions", headers=headers_for(make_user("carol@example.com")))
    with Session(engine) as session:
        from modules.auth.models import AuthSession

        revoked = session.exec(select(AuthSession.revoked_at).where(AuthSession.user_id == bob.id)).all()
    assert revoked
    assert all(stamp is not None for stamp in revoked)
