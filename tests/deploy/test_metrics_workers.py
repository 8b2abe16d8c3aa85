"""`python -m core.serve` with WEB_CONCURRENCY=2: one scrape of the metrics port counts what both
workers served, a killed worker leaves its counts and no gauge behind, and the metrics never share
the API's port."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.db import create_db_engine
from tests.deploy.servers import Service, free_port, service_env
from tests.helpers import ROOT, make_settings, migrate

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

WORKERS = 2
REQUESTS = 60


class Served(Service):
    """The service as `make run` and the start script run it, with its metrics port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        port = free_port()
        command = [sys.executable, "-m", "core.serve", "--host", "127.0.0.1", "--port", str(port)]
        # On a busy machine a worker still importing misses uvicorn's 5 s health check and is
        # replaced, again and again: what is tested here is the metrics, not that check.
        command += ["--timeout-worker-healthcheck", "60"]
        super().__init__(command, env, port, log)
        self.metrics_url = f"http://127.0.0.1:{env['METRICS_PORT']}/metrics"

    def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        text = httpx.get(self.metrics_url, timeout=5).text
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    directory = tmp_path_factory.mktemp("workers")
    url = f"sqlite:///{directory / 'app.db'}"
    engine = create_db_engine(make_settings(url))
    migrate(engine)
    engine.dispose()
    metrics_dir = directory / "metrics"
    metrics_dir.mkdir()
    # A value left by an earlier run, which the service must not add to its own.
    (metrics_dir / "counter_1.db").write_bytes(b"stale")
    env = service_env(url, WEB_CONCURRENCY=str(WORKERS), PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    service = Served(env, directory / "serve.log")
    try:
        service.wait_ready(timeout=90)
        # One worker answering is not both: on a busy machine uvicorn may still be replacing one.
        wait_for_workers(service, metrics_dir, WORKERS)
        yield service, metrics_dir
    finally:
        try:
            service.terminate()  # uvicorn stops its workers; killed, it would leave them running
        finally:
            service.close()


def counted(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    """Requests to paths no route matches: the test's own, as nothing else (the readiness probe
    on /health) asks for one."""
    labels = frozenset({("route", "unmatched"), ("method", "GET"), ("status_class", "4xx")})
    return scrape.get(("http_requests_total", labels), 0.0)


def worker_pids(metrics_dir: Path, kind: str) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob(f"{kind}_*.db")}


def live_workers(service: Served, metrics_dir: Path) -> set[int]:
    """Workers running now: each writes its gauges from the moment it starts."""
    return {
        pid
        for pid in worker_pids(metrics_dir, "gauge_livesum") - {service.process.pid}
        if Path(f"/proc/{pid}").exists()
    }


def wait_for_workers(service: Served, metrics_dir: Path, count: int, timeout: float = 60) -> set[int]:
    """Until `count` workers run and as many have finished their startup: a worker writes its
    gauges while it builds the app, before it accepts a connection."""
    deadline = time.monotonic() + timeout
    while (
        len(workers := live_workers(service, metrics_dir)) < count
        or service.output().count("Application startup complete") < count
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(workers)} of {count} workers running:\n{service.output()}")
        time.sleep(0.2)
    return workers


def send_unmatched(service: Served, requests: int) -> None:
    def get(n: int) -> int:
        # A connection per request, so the kernel hands them to either worker.
        return httpx.get(f"{service.url}/no-such-page/{n}", headers={"Connection": "close"}).status_code

    expected = counted(service.scrape()) + requests
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(get, range(requests))) == {404}
    # A request is counted once its answer is sent: the last one may land just after.
    deadline = time.monotonic() + 5
    while counted(service.scrape()) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted(service.scrape()) == expected


def test_one_scrape_counts_the_requests_of_every_worker(served: tuple[Served, Path]) -> None:
    service, metrics_dir = served

    send_unmatched(service, REQUESTS)

    # Each worker writes a histogram file of its own once it has timed a request: both did (more,
    # if uvicorn replaced a worker it found unresponsive on a busy machine).
    assert len(worker_pids(metrics_dir, "histogram")) >= WORKERS, service.output()
    assert ("db_pool_connections_in_use", frozenset()) in service.scrape()
    assert httpx.get(f"{service.url}/metrics").status_code == 404


def test_a_killed_workers_counts_stay_and_its_gauges_go(served: tuple[Served, Path]) -> None:
    service, metrics_dir = served
    send_unmatched(service, 20)
    before = counted(service.scrape())
    victim = max(live_workers(service, metrics_dir))

    os.kill(victim, signal.SIGKILL)
    # Until the supervisor has reaped it: till then a zombie is still in /proc. Starting its
    # replacement is uvicorn's part, left out: on a loaded machine that once took over a minute.
    deadline = time.monotonic() + 60
    while Path(f"/proc/{victim}").exists():
        assert time.monotonic() < deadline, f"worker {victim} not reaped:\n{service.output()}"
        time.sleep(0.2)

    # The scrape drops the dead worker's gauges; its counts stay in the totals, and whichever
    # worker answers next adds to them.
    assert counted(service.scrape()) == before
    assert victim not in worker_pids(metrics_dir, "gauge_livesum")
    send_unmatched(service, 5)
    assert service.terminate() == 0


def test_the_metrics_port_cannot_be_the_apis(tmp_path: Path) -> None:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path / 'app.db'}", METRICS_PORT=str(port))
    command = [sys.executable, "-m", "core.serve", "--host", "127.0.0.1", "--port", str(port)]

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "Refusing to start: METRICS_PORT is the API's port" in result.stderr
