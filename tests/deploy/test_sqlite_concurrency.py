"""SQLite under concurrent writes: one process, many threads; nobody sees "database is locked"."""

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from core.db import create_db_engine
from tests.deploy.servers import Service, service_env
from tests.helpers import PASSWORD, make_settings, migrate

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow
# The writes are items, the example entity: a service without it has nothing to write here.
pytest.importorskip("modules.items", reason="the items example module is not in this service")

WRITES = 500
CLIENT_THREADS = 24


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = create_db_engine(make_settings(url))
    migrate(engine)
    engine.dispose()
    service = Service.uvicorn(service_env(url, RATE_LIMIT_ENABLED="false"), tmp_path / "service.log")
    try:
        service.wait_ready()
        yield service
    finally:
        service.close()


def _login(http: httpx.Client, email: str) -> dict[str, str]:
    assert http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    r = http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_concurrent_writes_on_sqlite_lose_nothing(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    http = httpx.Client(base_url=service.url, limits=httpx.Limits(max_connections=CLIENT_THREADS), timeout=60)
    users = [_login(http, f"writer{n}@example.com") for n in range(4)]
    bodies: list[str] = []

    def write(n: int) -> int:
        headers = users[n % len(users)]
        # Creations mixed with reads and updates, as real traffic is.
        r = http.post("/api/v1/items", json={"title": f"item {n}"}, headers=headers)
        if r.status_code == 201 and n % 5 == 0:
            item = r.json()["id"]
            http.get("/api/v1/items", headers=headers)
            patched = http.patch(f"/api/v1/items/{item}", json={"is_completed": True}, headers=headers)
            if patched.status_code != 200:
                bodies.append(patched.text)
        if r.status_code != 201:
            bodies.append(r.text)
        return r.status_code

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        statuses = Counter(pool.map(write, range(WRITES)))
    assert bodies == []
    assert statuses == {201: WRITES}
    totals = [http.get("/api/v1/items", params={"limit": 1}, headers=h).json()["total"] for h in users]
    assert sum(totals) == WRITES
    with capsys.disabled():
        print(
            f"\n[deploy] SQLite, 1 process: {WRITES} creations (+{WRITES // 5} updates) "
            f"from {CLIENT_THREADS} threads: {dict(statuses)}, listed {sum(totals)}"
        )
