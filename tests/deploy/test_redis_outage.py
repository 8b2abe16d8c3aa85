"""Redis down under the rate limits: requests are served unlimited, the outage is logged once.

The test runs a Redis server of its own (redis-server on a free loopback port), never the shared one.
"""

import logging
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from core.app import create_app
from tests.deploy.servers import free_port
from tests.helpers import make_settings, require_server

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

LIMIT = 3


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        require_server("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = record.msg.get("event") if isinstance(record.msg, dict) else record.getMessage()
        self.events.append((record.levelno, str(event)))


@pytest.fixture
async def client(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'unused.db'}",
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT_STORAGE_URL=redis_server.url,
        RATE_LIMIT_DEFAULT=f"{LIMIT}/minute",
        LOG_LEVEL="INFO",
    )
    transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("core.ratelimit")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def _statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    # Unauthenticated reads: counted by the default limit, answered 401 without the database.
    return [(await client.get("/api/v1/users/me")).status_code for _ in range(count)]


async def test_requests_are_served_while_redis_is_down_with_one_warning_per_outage(
    client: httpx.AsyncClient, redis_server: RedisServer, records: Records
) -> None:
    assert await _statuses(client, LIMIT + 1) == [401] * LIMIT + [429]

    redis_server.stop()
    assert await _statuses(client, 10) == [401] * 10
    warnings = [event for level, event in records.events if level == logging.WARNING]
    assert warnings == ["rate_limit_storage_unavailable"]

    redis_server.start()  # empty: counting starts again
    assert await _statuses(client, LIMIT + 1) == [401] * LIMIT + [429]
    assert (logging.INFO, "rate_limit_storage_recovered") in records.events

    redis_server.stop()
    assert await _statuses(client, 3) == [401] * 3
    warnings = [event for level, event in records.events if level == logging.WARNING]
    assert warnings == ["rate_limit_storage_unavailable"] * 2
