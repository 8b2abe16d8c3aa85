"""SIGTERM with requests in flight: uvicorn stops accepting, lets them finish, then exits."""

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.deploy.servers import Service, service_env
from tests.deploy.slow_app import BETWEEN_WRITES
from tests.helpers import PASSWORD

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

IN_FLIGHT = 4


def test_sigterm_lets_in_flight_requests_finish_and_nothing_is_half_written(
    postgres_url: str, tmp_path: Path
) -> None:
    # On PostgreSQL, so the in-flight transactions really run side by side.
    database_url = postgres_url
    service = Service.uvicorn(
        service_env(database_url, RATE_LIMIT_ENABLED="false", LOG_LEVEL="INFO"),
        tmp_path / "service.log",
        "tests.deploy.slow_app:create_app",
    )
    try:
        service.wait_ready()
        http = httpx.Client(base_url=service.url, timeout=30)
        r = http.post("/api/v1/auth/register", json={"email": "slow@example.com", "password": PASSWORD})
        owner_id = r.json()["id"]
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            answers = [pool.submit(http.post, f"/slow-pair/{owner_id}") for _ in range(IN_FLIGHT)]
            # Until all are inside the handler (however loaded the machine), between their writes.
            deadline = time.monotonic() + 30
            while service.output().count(BETWEEN_WRITES) < IN_FLIGHT and time.monotonic() < deadline:
                time.sleep(0.05)
            service.process.terminate()
            statuses = [answer.result().status_code for answer in answers]
        exit_code = service.process.wait(30)
    finally:
        service.close()
    assert statuses == [201] * IN_FLIGHT, service.output()
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
    assert exit_code == -signal.SIGTERM
    assert "Application shutdown complete" in service.output()

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT refresh_token_hash, count(*) FROM auth_sessions GROUP BY refresh_token_hash")
        ).all()
    engine.dispose()
    assert dict(rows) == {"first of a pair": IN_FLIGHT, "second of a pair": IN_FLIGHT}
