"""Event deliveries between real processes: a runner killed mid-delivery leaves it to be
delivered again once its lease ends, and two instances deliver each of 500 events to the
listener once, nothing lost. The listener is the test app's own (tests/deploy/event_app.py)."""

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from core.db import create_db_engine
from tests.deploy.servers import Service, service_env
from tests.helpers import PASSWORD, make_settings, migrate

pytestmark = pytest.mark.slow

APP = "tests.deploy.event_app:create_app"
LEASE_SECONDS = 2
EVENTS = 500
CLIENT_THREADS = 24
REGISTER = "/api/v1/auth/register"


def heard(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def deliveries_left(engine: Engine) -> int:
    with engine.connect() as connection:
        left: int = connection.execute(text("SELECT count(*) FROM jobs WHERE kind LIKE '%>%'")).scalar_one()
    return left


@pytest.fixture
def database(make_database_url: Callable[[], Iterator[str]]) -> Iterator[tuple[str, Engine]]:
    """A migrated database of its own, on this run's backend."""
    for url in make_database_url():
        engine = create_db_engine(make_settings(url))
        migrate(engine)
        yield url, engine
        engine.dispose()


def register(service: Service, email: str) -> int:
    return httpx.post(f"{service.url}{REGISTER}", json={"email": email, "password": PASSWORD}).status_code


def test_a_delivery_cut_off_by_kill_9_is_delivered_again_after_its_lease(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = database
    events = tmp_path / "heard.txt"
    env = service_env(
        url,
        EVENTS_HEARD=str(events),
        EVENTS_STALL_FIRST_ATTEMPT="1",
        JOBS_LEASE_SECONDS=str(LEASE_SECONDS),
        JOBS_POLL_SECONDS="0.2",
        RATE_LIMIT_ENABLED="false",
        LOG_LEVEL="INFO",
    )
    first = Service.uvicorn(env, tmp_path / "1.log", APP)
    try:
        first.wait_ready()
        assert register(first, "bob@example.com") == 201
        deadline = time.monotonic() + 30
        while not events.with_suffix(".stalled").exists():
            assert time.monotonic() < deadline, first.output()
            time.sleep(0.05)
        first.process.kill()  # SIGKILL: the listener cut off mid-delivery
        first.process.wait(10)
    finally:
        first.close()
    assert heard(events) == []
    assert deliveries_left(engine) == 1

    second = Service.uvicorn(env, tmp_path / "2.log", APP)
    try:
        second.wait_ready()
        deadline = time.monotonic() + LEASE_SECONDS + 30
        while not heard(events) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(LEASE_SECONDS + 0.5)  # long enough for a third delivery, were there to be one
    finally:
        second.terminate()

    [(_event_id, attempt, _pid)] = heard(events)
    assert attempt == "2", second.output()
    assert deliveries_left(engine) == 0


def test_two_instances_deliver_each_of_500_events_once(postgres_url: str, tmp_path: Path) -> None:
    events = tmp_path / "heard.txt"
    env = service_env(
        postgres_url,
        EVENTS_HEARD=str(events),
        JOBS_POLL_SECONDS="0.05",
        RATE_LIMIT_ENABLED="false",
        DB_POOL_SIZE="5",
        DB_MAX_OVERFLOW="5",
    )
    instances = [Service.uvicorn(env, tmp_path / f"instance{n}.log", APP) for n in range(2)]
    engine = create_db_engine(make_settings(postgres_url))
    try:
        for instance in instances:
            instance.wait_ready()
        emails = [f"user{n}-{uuid.uuid4().hex[:6]}@example.com" for n in range(EVENTS)]
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            statuses = Counter(pool.map(lambda n: register(instances[n % 2], emails[n]), range(EVENTS)))
        assert statuses == {201: EVENTS}
        deadline = time.monotonic() + 120
        while len(heard(events)) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # any second delivery would come now
        left = deliveries_left(engine)
    finally:
        for instance in instances:
            instance.terminate()
        engine.dispose()

    lines = heard(events)
    by_event = Counter(event_id for event_id, _attempt, _pid in lines)
    assert len(by_event) == EVENTS
    assert set(by_event.values()) == {1}
    assert left == 0
    # Both took part: each instance's runner delivered some of the events.
    pids = Counter(pid for _event_id, _attempt, pid in lines)
    assert len(pids) == 2, pids
    print(f"\n[deploy] events: {EVENTS} published across 2 instances, delivered once each: {dict(pids)}")
