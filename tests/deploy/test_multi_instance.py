"""Two instances of the service (separate uvicorn processes) sharing one PostgreSQL and one Redis."""

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.deploy.servers import Service, service_env
from tests.helpers import PASSWORD

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

WRITES = 500
CLIENT_THREADS = 24


@pytest.fixture(scope="module")
def instances(
    postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Service]]:
    env = service_env(
        postgres_url,
        RATE_LIMIT_STORAGE_URL=redis_url,
        RATE_LIMIT_DEFAULT="100000/minute",
        RATE_LIMIT_LOGIN="5/minute",
        # The tests play clients behind a proxy on loopback: each gets an address of its own.
        TRUSTED_PROXIES='["127.0.0.1"]',
        DB_POOL_SIZE="5",
        DB_MAX_OVERFLOW="5",
    )
    logs = tmp_path_factory.mktemp("instances")
    services = [
        Service.uvicorn(
            env, logs / f"instance{n}.log", "core.app:create_app", "--forwarded-allow-ips", "127.0.0.1"
        )
        for n in range(2)
    ]
    try:
        for service in services:
            service.wait_ready()
        yield services
    finally:
        for service in services:
            service.close()


class Client:
    """A client with an address of its own, talking to either instance."""

    def __init__(self, instances: list[Service]) -> None:
        self.address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
        self.http = [
            httpx.Client(base_url=s.url, headers={"X-Forwarded-For": self.address}) for s in instances
        ]

    def on(self, instance: int) -> httpx.Client:
        return self.http[instance]

    def register_and_login(self) -> tuple[dict[str, str], dict[str, str]]:
        """A new account; its login tokens and access header."""
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        r = self.on(0).post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        tokens = self.login(email, instance=1)
        return {"email": email, **tokens}, {"Authorization": f"Bearer {tokens['access_token']}"}

    def login(self, email: str, *, instance: int) -> dict[str, str]:
        r = self.on(instance).post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        tokens: dict[str, str] = r.json()
        return tokens

    def refresh(self, token: str, *, instance: int) -> httpx.Response:
        return self.on(instance).post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_a_rate_limit_is_one_budget_across_instances(instances: list[Service]) -> None:
    client = Client(instances)
    form = {"username": "nobody@example.com", "password": "wrong password"}
    answers = [client.on(n % 2).post("/api/v1/auth/login", data=form).status_code for n in range(5)]
    assert answers == [401] * 5
    assert client.on(0).post("/api/v1/auth/login", data=form).status_code == 429
    assert client.on(1).post("/api/v1/auth/login", data=form).status_code == 429
    # Another client's budget is its own.
    assert Client(instances).on(1).post("/api/v1/auth/login", data=form).status_code == 401


def test_a_logged_out_session_is_refused_by_the_other_instance(instances: list[Service]) -> None:
    client = Client(instances)
    account, _ = client.register_and_login()
    r = client.on(0).post("/api/v1/auth/logout", json={"refresh_token": account["refresh_token"]})
    assert r.status_code == 204
    assert client.refresh(account["refresh_token"], instance=1).status_code == 401


def test_a_replayed_refresh_token_revokes_the_session_on_both_instances(instances: list[Service]) -> None:
    client = Client(instances)
    account, _ = client.register_and_login()
    rotated = client.refresh(account["refresh_token"], instance=0)
    assert rotated.status_code == 200, rotated.text
    assert client.refresh(account["refresh_token"], instance=1).status_code == 401
    assert client.refresh(rotated.json()["refresh_token"], instance=0).status_code == 401


def test_a_password_change_ends_sessions_on_the_other_instance(instances: list[Service]) -> None:
    client = Client(instances)
    account, headers = client.register_and_login()
    r = client.on(0).post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another good password"},
        headers=headers,
    )
    assert r.status_code == 204, r.text
    assert client.refresh(account["refresh_token"], instance=1).status_code == 401


def test_concurrent_writes_through_both_instances_lose_nothing(
    instances: list[Service], postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A superuser creates accounts through both instances: users are in every generated service.
    admin_account, admin = Client(instances).register_and_login()
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET is_superuser = true WHERE email = :email"),
            {"email": admin_account["email"]},
        )
        before = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
    clients = [
        httpx.Client(base_url=s.url, limits=httpx.Limits(max_connections=CLIENT_THREADS)) for s in instances
    ]
    batch = uuid.uuid4().hex[:8]

    def create(n: int) -> int:
        account = {"email": f"{batch}-{n}@example.com", "password": PASSWORD}
        r = clients[n % 2].post("/api/v1/users", json=account, headers=admin, timeout=60)
        return r.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        statuses = Counter(pool.map(create, range(WRITES)))
    elapsed = time.perf_counter() - started
    assert statuses == {201: WRITES}

    totals = [
        clients[instance].get("/api/v1/users", params={"limit": 1}, headers=admin).json()["total"] - before
        for instance in range(2)
    ]
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM users WHERE email LIKE :batch"), {"batch": f"{batch}-%"}
        ).scalar_one()
    engine.dispose()
    assert totals == [WRITES, WRITES]
    assert stored == WRITES
    with capsys.disabled():
        print(
            f"\n[deploy] PostgreSQL, 2 instances: {WRITES} account creations from {CLIENT_THREADS} threads "
            f"in {elapsed:.1f}s: {dict(statuses)}; each instance counts {totals[0]}, the table holds {stored}"
        )
