"""SQLite under concurrent writes: one process, many threads; nobody sees "database is locked"."""

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from core.db import create_db_engine
from modules.users.schemas import UserCreate
from modules.users.service import create_user
from tests.deploy.servers import Service, service_env
from tests.helpers import PASSWORD, make_settings, migrate

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

WRITES = 500
CLIENT_THREADS = 24
ADMIN = "admin@example.com"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """The service on a new SQLite database holding one superuser, who does the writing: users
    are in every generated service, whatever its entities and its registration policy."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = create_db_engine(make_settings(url))
    migrate(engine)
    with Session(engine) as session:
        create_user(
            session=session, user_in=UserCreate(email=ADMIN, password=PASSWORD, is_superuser=True), rounds=4
        )
    engine.dispose()
    service = Service.uvicorn(service_env(url, RATE_LIMIT_ENABLED="false"), tmp_path / "service.log")
    try:
        service.wait_ready()
        yield service
    finally:
        service.close()


def _login(http: httpx.Client, email: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_concurrent_writes_on_sqlite_lose_nothing(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    http = httpx.Client(base_url=service.url, limits=httpx.Limits(max_connections=CLIENT_THREADS), timeout=60)
    admin = _login(http, ADMIN)
    writers = []
    for n in range(4):
        created = http.post(
            "/api/v1/users", json={"email": f"writer{n}@example.com", "password": PASSWORD}, headers=admin
        )
        assert created.status_code == 201, created.text
        writers.append(_login(http, f"writer{n}@example.com"))
    bodies: list[str] = []

    def write(n: int) -> int:
        # Account creations mixed with reads and profile updates, as real traffic is.
        r = http.post(
            "/api/v1/users", json={"email": f"user{n}@example.com", "password": PASSWORD}, headers=admin
        )
        if r.status_code == 201 and n % 5 == 0:
            headers = writers[n % len(writers)]
            http.get("/api/v1/users/me", headers=headers)
            patched = http.patch("/api/v1/users/me", json={"full_name": f"writer {n}"}, headers=headers)
            if patched.status_code != 200:
                bodies.append(patched.text)
        if r.status_code != 201:
            bodies.append(r.text)
        return r.status_code

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        statuses = Counter(pool.map(write, range(WRITES)))
    assert bodies == []
    assert statuses == {201: WRITES}
    listed = http.get("/api/v1/users", params={"limit": 1}, headers=admin).json()["total"]
    assert listed == WRITES + len(writers) + 1
    with capsys.disabled():
        print(
            f"\n[deploy] SQLite, 1 process: {WRITES} account creations (+{WRITES // 5} profile updates) "
            f"from {CLIENT_THREADS} threads: {dict(statuses)}, listed {listed}"
        )
