"""Prometheus metrics: what the service counts, and the listener that serves them.

The listener has a port of its own (METRICS_HOST:METRICS_PORT, loopback by default), never the
API's: the numbers are for the operator, not for the API's clients. `core.serve` points every
worker at one directory (prometheus-client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR) before
the workers start and serves their sum from the supervising process, so one scrape sees them all.
Without that directory (tests, a plain `uvicorn`) the values live in the process that counts them.

The metric names and labels are load-bearing: the alert rules (docs/examples/prometheus-alerts.yml)
and the dashboards built on them match them. A module counts what is its own beside these
(`modules/<name>/metrics.py`), with the same `prometheus_client`, so the same listener serves it.

docs/reference/metrics.md is drawn from the calls below, read as source (`make modules`): each
metric is one `Counter`, `Gauge` or `Histogram` call whose name, help and labels are strings or
this file's constants of them. The help is what the metric means, label values included: the
page shows it as `/metrics` does.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool
from starlette.routing import Mount
from starlette.types import Scope

from core.config import ConfigurationError, Settings

# Requests. `route` is the matched route's template, never the raw path, so the number of series
# stays that of the routes, whatever clients ask for.
UNMATCHED = "unmatched"
_LABELS = ["route", "method", "status_class"]
_LABELLED = (
    "`route` is the route's template (`/api/v1/<module>/{id}`, or a mount's, such as"
    f" `/docs-assets/{{path}}`) or `{UNMATCHED}`, never the raw path; `method` is `other` for a"
    " method outside HTTP's; `status_class` is `2xx` … `5xx`"
)
REQUESTS = Counter("http_requests_total", f"Requests answered; {_LABELLED}", _LABELS)
LATENCY = Histogram(
    "http_request_duration_seconds",
    f"Seconds from a request to the end of its answer's body; {_LABELLED}",
    _LABELS,
)
# Anything else a client sends as a method is counted as one: the label cannot grow without end.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Each worker has a pool of its own: the gauges add up across the live workers.
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out, read every second in each worker and summed over the live ones",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "db_pool_overflow",
    "Database connections open beyond `DB_POOL_SIZE`, read every second in each worker and summed"
    " over the live ones",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "db_pool_waiting",
    "Requests waiting for a free database connection, read every second in each worker and summed"
    " over the live ones",
    multiprocess_mode="livesum",
)
# Seconds between two readings of the pool: finer than any scrape interval, and nothing per request.
POOL_SAMPLE_SECONDS = 1.0

RATE_LIMIT_REFUSALS = Counter(
    "rate_limit_refusals_total",
    "Requests refused with 429; `limit` is the limit's name (`default`, `login`, …)",
    ["limit"],
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "rate_limit_storage_errors_total",
    "Requests served uncounted because the rate-limit storage (`RATE_LIMIT_STORAGE_URL`) did not"
    " answer: no limit holds while it lasts",
)

# Background jobs, fed by `core.jobs.queue` through `job_event` and by the runners through
# `jobs_queued`. Each attempt is `started`, then `succeeded` or `failed` (or `lease_lost`: it
# outlived its lease and another runner holds the job); a failed attempt is `retried` or `dead`.
# One counter per event, each named in full: the alert rules and a search for the name find it.
JobEvent = Literal["enqueued", "started", "succeeded", "failed", "lease_lost", "retried", "dead"]
_JOB_COUNTERS: dict[JobEvent, Counter] = {
    "enqueued": Counter(
        "jobs_enqueued_total", "Jobs enqueued, counted once the change that enqueued them commits", ["kind"]
    ),
    "started": Counter("jobs_started_total", "Attempts started: a job's first, or a retry", ["kind"]),
    "succeeded": Counter("jobs_succeeded_total", "Attempts that succeeded: the job is done", ["kind"]),
    "failed": Counter(
        "jobs_failed_total", "Attempts that raised; each is then counted as retried or dead", ["kind"]
    ),
    "lease_lost": Counter(
        "jobs_lease_lost_total",
        "Attempts that outlived their lease (`JOBS_LEASE_SECONDS`): another runner holds the job",
        ["kind"],
    ),
    "retried": Counter(
        "jobs_retried_total",
        "Failed attempts to be run again, after `JOBS_RETRY_SECONDS` doubled at each one",
        ["kind"],
    ),
    "dead": Counter(
        "jobs_dead_total",
        "Jobs that will not run again unless requeued: out of attempts (`JOBS_MAX_ATTEMPTS`), or given up on",
        ["kind"],
    ),
}
JOBS_RUNNING = Gauge(
    "jobs_running", "Jobs running now, summed over the live processes", ["kind"], multiprocess_mode="livesum"
)
# Every runner counts the same table: the latest count is the answer, not their sum.
JOBS_QUEUED = Gauge(
    "jobs_queued",
    "Jobs waiting to run, as last counted by a runner",
    ["kind"],
    multiprocess_mode="livemostrecent",
)


# Events (`core.events`): how many were committed, and how each listener's deliveries went. A
# delivery is a job, so its outcomes are its job events, here labelled by event and listener.
EVENTS_PUBLISHED = Counter(
    "events_published_total",
    "Events published, counted once the change that published them commits; `event` is `<module>.<Event>`",
    ["event"],
)
EVENT_DELIVERIES = Counter(
    "event_deliveries_total",
    "Attempts to deliver an event to a listener; `event` is `<module>.<Event>`, `listener`"
    " `<module>.<function>`, `outcome` the attempt's job event (`started`, `succeeded`, `failed`,"
    " `lease_lost`, `retried`, `dead`)",
    ["event", "listener", "outcome"],
)
_DELIVERIES: dict[str, tuple[str, str]] = {}  # job kind -> (event, listener)


def name_delivery(kind: str, *, event: str, listener: str) -> None:
    """Say that jobs of `kind` deliver `event` to `listener` (`core.events` registers each)."""
    _DELIVERIES[kind] = (event, listener)


def event_published(event: str) -> None:
    EVENTS_PUBLISHED.labels(event).inc()


def job_event(kind: str, event: JobEvent) -> None:
    """Count one event in the life of a job of `kind` (`metrics.job_event("mail", "started")`)."""
    _JOB_COUNTERS[event].labels(kind).inc()
    delivery = _DELIVERIES.get(kind)
    if delivery is not None and event != "enqueued":
        EVENT_DELIVERIES.labels(*delivery, event).inc()
    if event == "started":
        JOBS_RUNNING.labels(kind).inc()
    elif event in {"succeeded", "failed", "lease_lost"}:
        JOBS_RUNNING.labels(kind).dec()


def jobs_queued(kind: str, count: int) -> None:
    """Record how many jobs of `kind` wait to run; a runner calls it each time it counts them."""
    JOBS_QUEUED.labels(kind).set(count)


def rate_limit_refused(limit: str) -> None:
    RATE_LIMIT_REFUSALS.labels(limit).inc()


def rate_limit_storage_failed() -> None:
    RATE_LIMIT_STORAGE_ERRORS.inc()


class RequestMetrics:
    """Count every request and time it, by route template, method and status class.

    Called by `core.middleware.RequestContextMiddleware` as each request ends (the outermost of
    our middleware, so it sees every status, the body limit's 413 too), with the time it took
    for the access log. The label children are looked up once per combination, not per request."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        # By the route's id: routes compare by value and hash by nothing; each lives as long as its app.
        self._templates: dict[int, str] = {}

    def __call__(self, scope: Scope, status: int, seconds: float) -> None:
        route = self._template(scope)
        method = scope["method"] if scope["method"] in _METHODS else "other"
        key = (route, method, f"{status // 100}xx")
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (REQUESTS.labels(*key), LATENCY.labels(*key))
        count, latency = series
        count.inc()
        latency.observe(seconds)

    def _template(self, scope: Scope) -> str:
        # The router leaves the route it matched in the scope (a 405's too; nothing for a 404),
        # or for a mounted app (the docs' assets) the app itself, as the endpoint. That route is
        # as its module declared it (`/{user_id}`): FastAPI knows where each was included
        # (`/api/v1/orders/{order_id}`), asked once per route.
        route = scope.get("route") or scope.get("endpoint")
        if route is None:
            return UNMATCHED
        template = self._templates.get(id(route))
        if template is None:  # a route not seen yet, or added since: read them all again
            self._templates = {}
            for context in iter_route_contexts(scope["app"].routes):
                declared = context.original_route
                for key in (declared, declared.app) if isinstance(declared, Mount) else (declared,):
                    self._templates[id(key)] = context.path_format or UNMATCHED
            template = self._templates.setdefault(id(route), str(getattr(route, "path", UNMATCHED)))
        return template


def pool_usage(engine: Any) -> tuple[int, int, int]:
    """(connections in use, overflow, waiting) of an Engine's or AsyncEngine's queue pool."""
    pool = getattr(engine, "sync_engine", engine).pool
    if not isinstance(pool, QueuePool):  # an in-memory SQLite database has no queue of connections
        return 0, 0, 0
    return pool.checkedout(), max(0, pool.overflow()), _waiting(pool)


def _waiting(pool: QueuePool) -> int:
    # SQLAlchemy keeps no count of waiters; they are the threads (or, under an AsyncEngine, the
    # tasks) blocked on its queue of idle connections. Read defensively: these are internals.
    queue = getattr(pool, "_pool", None)
    threads = getattr(getattr(queue, "not_empty", None), "_waiters", None)
    if threads is not None:
        return len(threads)
    tasks = getattr(getattr(queue, "_queue", None), "_getters", ())
    return sum(1 for task in tasks if not task.done())


def sample_pool(engine: Any) -> None:
    in_use, overflow, waiting = pool_usage(engine)
    POOL_IN_USE.set(in_use)
    POOL_OVERFLOW.set(overflow)
    POOL_WAITING.set(waiting)


@asynccontextmanager
async def pool_sampler(engine: Any) -> AsyncIterator[None]:
    """Read the pool every POOL_SAMPLE_SECONDS while the app runs: nothing is spent per request."""

    async def sample_forever() -> None:
        while True:
            sample_pool(engine)
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    task = asyncio.create_task(sample_forever())
    try:
        yield
    finally:
        task.cancel()


class _LiveWorkers(Collector):
    """Every worker's values from the multiprocess directory, once the files that exited workers
    left for the `live*` gauges are gone: uvicorn replaces a worker that dies, and one killed
    (`kill -9`, out of memory) never removes its own."""

    def __init__(self, directory: str) -> None:
        self._directory = directory
        # prometheus-client's multiprocess functions carry no annotations.
        self._collector = MultiProcessCollector(None, path=directory)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        for path in Path(self._directory).glob("gauge_live*_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            if not _alive(pid):
                mark_process_dead(pid, self._directory)  # type: ignore[no-untyped-call]
        metrics: Iterable[Metric] = self._collector.collect()  # type: ignore[no-untyped-call]
        return metrics


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True


def serve(settings: Settings) -> None:
    """Serve this process's metrics, or with PROMETHEUS_MULTIPROC_DIR set every process's, at
    `http://METRICS_HOST:METRICS_PORT/metrics`, from a daemon thread."""
    registry: CollectorRegistry = REGISTRY
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        registry.register(_LiveWorkers(directory))
    try:
        start_http_server(settings.METRICS_PORT, settings.METRICS_HOST, registry)
    except OSError as exc:
        raise ConfigurationError(
            f"metrics cannot listen on {settings.METRICS_HOST}:{settings.METRICS_PORT} ({exc.strerror}); "
            "choose another METRICS_PORT, or set METRICS_ENABLED=false"
        ) from exc
