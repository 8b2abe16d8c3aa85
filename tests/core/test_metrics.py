"""Metrics: what is counted and how it is labelled, read from this process's registry.

The listener that serves them, and their sum over several workers, are tested against a real
`python -m core.serve` in tests/deploy/test_metrics_workers.py.
"""

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import get_args

import httpx
import pytest
import yaml
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from core import metrics
from core.config import API_PREFIX
from core.db import create_db_engine
from core.docs import ASSETS_URL
from tests.deploy.servers import free_port
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parents[2]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests(route: str, method: str = "GET", status_class: str = "4xx") -> float:
    return value("http_requests_total", route=route, method=method, status_class=status_class)


@pytest.fixture
def api(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> httpx.AsyncClient:
    return connect(make_app(migrated=True))


async def test_a_request_is_counted_and_timed_by_route_template_method_and_status_class(
    api: httpx.AsyncClient,
) -> None:
    route = f"{API_PREFIX}/users/{{user_id}}"
    labels = {"route": route, "method": "GET", "status_class": "4xx"}
    before = requests(route), value("http_request_duration_seconds_count", **labels)

    response = await api.get(f"{API_PREFIX}/users/{uuid.uuid4()}")

    assert response.status_code == 401
    assert requests(route) == before[0] + 1
    assert value("http_request_duration_seconds_count", **labels) == before[1] + 1


async def test_a_path_no_route_matches_is_counted_as_unmatched_never_by_its_path(
    api: httpx.AsyncClient,
) -> None:
    before = requests(metrics.UNMATCHED)
    path = f"/no/such/{uuid.uuid4()}"

    assert (await api.get(path)).status_code == 404

    assert requests(metrics.UNMATCHED) == before + 1
    routes = {sample.labels.get("route") for family in REGISTRY.collect() for sample in family.samples}
    assert path not in routes


async def test_the_docs_assets_are_counted_under_their_mount_not_as_unmatched(
    api: httpx.AsyncClient,
) -> None:
    route = f"{ASSETS_URL}/{{path}}"
    before = requests(route, status_class="2xx"), requests(metrics.UNMATCHED, status_class="2xx")

    assert (await api.get(f"{ASSETS_URL}/swagger-ui.css")).status_code == 200

    assert requests(route, status_class="2xx") == before[0] + 1
    assert requests(metrics.UNMATCHED, status_class="2xx") == before[1]


async def test_a_method_outside_http_is_counted_as_other(api: httpx.AsyncClient) -> None:
    before = requests("/health", method="other")

    assert (await api.request("BREW", "/health")).status_code == 405

    assert requests("/health", method="other") == before + 1


async def test_the_api_does_not_serve_metrics(api: httpx.AsyncClient) -> None:
    assert (await api.get("/metrics")).status_code == 404


async def test_with_metrics_off_requests_are_not_counted(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(make_app(METRICS_ENABLED=False))
    before = requests("/health", status_class="2xx")

    assert (await client.get("/health")).status_code == 200

    assert requests("/health", status_class="2xx") == before


async def test_a_wrong_password_is_counted_as_a_login_failure(api: httpx.AsyncClient) -> None:
    before = value("login_failures_total")
    form = {"username": "nobody@example.com", "password": "wrong password"}

    assert (await api.post(f"{API_PREFIX}/auth/login", data=form)).status_code == 401

    assert value("login_failures_total") == before + 1


async def test_a_refusal_is_counted_under_the_limits_name(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(make_app(migrated=True, RATE_LIMIT_ENABLED=True, RATE_LIMIT_LOGIN="1/minute"))
    form = {"username": "nobody@example.com", "password": "wrong password"}
    before = value("rate_limit_refusals_total", limit="login")

    answers = [(await client.post(f"{API_PREFIX}/auth/login", data=form)).status_code for _ in range(2)]

    assert answers == [401, 429]
    assert value("rate_limit_refusals_total", limit="login") == before + 1


async def test_a_request_the_limit_storage_could_not_count_is_counted(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    # A Redis address nothing listens on: every count fails, and the request is served anyway.
    storage = f"redis://127.0.0.1:{free_port()}/0"
    client = connect(make_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_STORAGE_URL=storage))
    before = value("rate_limit_storage_errors_total")

    assert (await client.get(f"{API_PREFIX}/users/me")).status_code == 401

    assert value("rate_limit_storage_errors_total") == before + 1


@pytest.fixture
def small_pool(make_database_url: Callable[[], Iterator[str]]) -> Iterator[Engine]:
    """An engine on the test database (SQLite or PostgreSQL) with one pooled connection and one more."""
    urls = make_database_url()
    settings = make_settings(next(urls), DB_POOL_SIZE=1, DB_MAX_OVERFLOW=1, DB_POOL_TIMEOUT_SECONDS=5)
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()
    urls.close()


def test_the_pool_shows_connections_in_use_overflow_and_waiting(small_pool: Engine) -> None:
    engine = small_pool
    held = [engine.connect(), engine.connect()]
    assert metrics.pool_usage(engine) == (2, 1, 0)

    waiter = threading.Thread(target=lambda: engine.connect().close())
    waiter.start()
    deadline = time.monotonic() + 5
    while metrics.pool_usage(engine)[2] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    metrics.sample_pool(engine)
    assert (value("db_pool_connections_in_use"), value("db_pool_overflow"), value("db_pool_waiting")) == (
        2,
        1,
        1,
    )

    for connection in held:
        connection.close()
    waiter.join(5)
    metrics.sample_pool(engine)
    assert (value("db_pool_connections_in_use"), value("db_pool_waiting")) == (0, 0)


async def test_the_pool_is_read_while_the_app_runs(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()
    engine: Engine = app.state.engine

    async with app.router.lifespan_context(app):
        with engine.connect():
            deadline = time.monotonic() + 5
            while value("db_pool_connections_in_use") != 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert value("db_pool_connections_in_use") == 1


def test_a_jobs_life_is_counted_by_kind_and_running_jobs_are_a_gauge() -> None:
    kind = f"test_{uuid.uuid4().hex[:8]}"
    for event in ("enqueued", "started", "failed", "retried", "started", "failed", "dead"):
        metrics.job_event(kind, event)  # type: ignore[arg-type]
    metrics.job_event(kind, "started")
    metrics.jobs_queued(kind, 3)

    counts = {event: value(f"jobs_{event}_total", kind=kind) for event in ("enqueued", "started", "failed")}
    assert counts == {"enqueued": 1, "started": 3, "failed": 2}
    assert (value("jobs_retried_total", kind=kind), value("jobs_dead_total", kind=kind)) == (1, 1)
    assert value("jobs_succeeded_total", kind=kind) == 0
    assert (value("jobs_running", kind=kind), value("jobs_queued", kind=kind)) == (1, 3)


# A range-vector selector of a rule: `name{label="value", other!="x"}[5m]`.
SELECTOR = re.compile(r"\b([a-z_][a-z0-9_]*)(?:\{([^}]*)\})?\[")
LABEL = re.compile(r"([a-z_][a-z0-9_]*)\s*(?:=|!=|=~|!~)")


def test_the_alert_rules_name_only_metrics_and_labels_the_service_serves(app: FastAPI) -> None:
    """docs/examples/prometheus-alerts.yml, the rules operators load: a renamed metric or label
    must not leave an alert that never fires. The app has imported every module's metrics."""
    rules = yaml.safe_load((ROOT / "docs/examples/prometheus-alerts.yml").read_text())
    # The registry's own index from each sample name (`_total`, `_bucket`) to its metric.
    served = REGISTRY._names_to_collectors  # prometheus_client offers no public one
    selectors = [
        selector
        for group in rules["groups"]
        for rule in group["rules"]
        for selector in SELECTOR.findall(str(rule["expr"]))
    ]
    assert len(selectors) >= 7
    for name, labels in selectors:
        assert name in served, f"{name}: no such metric"
        known = {*served[name]._labelnames, "le"}
        assert set(LABEL.findall(labels)) <= known, f"{name}{{{labels}}}: labels are {sorted(known)}"


def test_every_job_event_has_its_counter() -> None:
    assert set(metrics._JOB_COUNTERS) == set(get_args(metrics.JobEvent))
