"""A database outage: the service stays alive, says 503, and recovers by itself once it is back.

The test stops and starts a PostgreSQL cluster of its own (initdb + pg_ctl in a temp directory),
never the shared server.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from core.app import create_app
from core.db import create_db_engine
from core.errors import DATABASE_UNAVAILABLE
from core.security import TokenType, create_token
from tests.deploy.servers import PostgresCluster, Service, free_port, service_env
from tests.helpers import PASSWORD, ROOT, TEST_SECRET_KEY, make_settings, migrate, require_server

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

RECOVERY_LIMIT_SECONDS = 5
ME = "/api/v1/users/me"


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    if not PostgresCluster.available():
        require_server(
            "a PostgreSQL cluster of the test's own needs the server's tools (pg_config, initdb, pg_ctl)"
            " and, as root, runuser to run them as postgres"
        )
    with tempfile.TemporaryDirectory(prefix="outage-") as directory:
        cluster = PostgresCluster(Path(directory))
        cluster.start()
        try:
            yield cluster
        finally:
            subprocess.run(
                [*cluster.command("pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )


def test_the_service_answers_503_while_the_database_is_down_and_recovers_by_itself(
    cluster: PostgresCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_db_engine(make_settings(cluster.url))
    migrate(engine)
    engine.dispose()
    service = Service.uvicorn(service_env(cluster.url, RATE_LIMIT_ENABLED="false"), tmp_path / "service.log")
    try:
        service.wait_ready()
        http = httpx.Client(base_url=service.url, timeout=30)
        assert (
            http.post(
                "/api/v1/auth/register", json={"email": "a@example.com", "password": PASSWORD}
            ).status_code
            == 201
        )
        tokens = http.post(
            "/api/v1/auth/login", data={"username": "a@example.com", "password": PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.patch(ME, json={"full_name": "before"}, headers=headers).status_code == 200

        cluster.stop()
        started = time.perf_counter()
        down = http.get(ME, headers=headers)
        answered_in = time.perf_counter() - started
        assert down.status_code == 503, down.text
        assert down.json() == {"detail": DATABASE_UNAVAILABLE, "code": "database_unavailable"}
        assert http.patch(ME, json={"full_name": "lost"}, headers=headers).status_code == 503
        login = http.post("/api/v1/auth/login", data={"username": "a@example.com", "password": PASSWORD})
        assert login.status_code == 503
        assert http.get("/health").status_code == 200
        assert http.get("/health/ready").status_code == 503
        assert "Traceback" not in service.output()

        cluster.start()
        back = time.perf_counter()
        while (r := http.get(ME, headers=headers)).status_code != 200:
            assert r.status_code == 503, r.text
            assert time.perf_counter() - back < RECOVERY_LIMIT_SECONDS, "no recovery"
            time.sleep(0.05)
        recovered_in = time.perf_counter() - back
        assert r.json()["full_name"] == "before"
        assert http.get("/health/ready").status_code == 200
        after = http.patch(ME, json={"full_name": "after"}, headers=headers)
        assert (after.status_code, after.json()["full_name"]) == (200, "after")
    finally:
        service.close()
    with capsys.disabled():
        print(
            f"\n[deploy] database outage: 503 answered in {answered_in * 1000:.0f} ms while down; "
            f"recovered {recovered_in * 1000:.0f} ms after PostgreSQL was accepting connections again"
        )


async def test_an_unreachable_database_answers_503_and_the_process_stays_live() -> None:
    # Nothing listens on this port: every connection attempt is refused at once.
    app = create_app(make_settings(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"))
    token, _ = create_token(
        subject=str(uuid.uuid4()),
        token_type=TokenType.ACCESS,
        secret=TEST_SECRET_KEY,
        lifetime=timedelta(minutes=1),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 503
        assert r.json() == {"detail": DATABASE_UNAVAILABLE, "code": "database_unavailable"}
        assert r.headers["Retry-After"] == "5"
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 503
    app.state.engine.dispose()


@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("true", "1 error")])
def test_without_the_clusters_tools_the_outage_test_says_why_it_stops(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    """As root with no runuser on PATH (only pg_config is there), the fixture stops the test with
    its reason: a skip, or a failure under CI; never a FileNotFoundError from deep inside."""
    tools = tmp_path / "bin"
    tools.mkdir()
    pg_config = shutil.which("pg_config")
    if pg_config is None or os.geteuid() != 0:
        pytest.skip("needs pg_config, and root (whom runuser's absence stops)")
    (tools / "pg_config").symlink_to(pg_config)
    env = {**os.environ, "PATH": str(tools), "CI": ci}
    only = ["-k", "test_the_service_answers_503_while_the_database_is_down"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            __file__,
            *only,
            "-q",
            "-rsE",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:cov",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert outcome in result.stdout, result.stdout
    assert "runuser" in result.stdout
    assert "FileNotFoundError" not in result.stdout
