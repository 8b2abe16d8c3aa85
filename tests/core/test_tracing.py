"""Traces: one server span per request with its SQL under it, the trace id in the request's log
lines, spans exported over OTLP/HTTP to a collector, and nothing of the SDK without one."""

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from core.config import API_PREFIX
from tests.helpers import ROOT

LOGIN = f"{API_PREFIX}/auth/login"
WRONG = {"username": "nobody@example.com", "password": "wrong password"}


class Collector:
    """An OTLP/HTTP endpoint on loopback that keeps every trace export it receives."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []
        received = self.exports

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces":
                    received.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    yield collector
    collector.server.shutdown()
    collector.server.server_close()


@pytest.fixture
def traced(
    make_app: Callable[..., FastAPI],
    make_database_url: Callable[[], Iterator[str]],
    collector: Collector,
) -> Iterator[Callable[..., tuple[FastAPI, InMemorySpanExporter]]]:
    """`traced(**settings)`: an app on the test database (SQLite or PostgreSQL) sending traces to
    the collector, and an in-memory copy of its spans."""
    databases = make_database_url()
    apps: list[FastAPI] = []

    def make(**overrides: object) -> tuple[FastAPI, InMemorySpanExporter]:
        app = make_app(
            migrated=True,
            database_url=next(databases),
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
            **overrides,
        )
        spans = InMemorySpanExporter()
        app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        apps.append(app)
        return app, spans

    yield make
    for app in apps:
        app.state.tracer_provider.shutdown()
        app.state.engine.dispose()  # before its database is dropped
    databases.close()


def ancestors(span: ReadableSpan, spans: dict[int, ReadableSpan]) -> Iterator[ReadableSpan]:
    while span.parent is not None and span.parent.span_id in spans:
        span = spans[span.parent.span_id]
        yield span


async def test_a_request_is_one_server_span_with_its_statements_under_it(
    traced: Callable[..., tuple[FastAPI, InMemorySpanExporter]],
    connect: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    app, exporter = traced()

    assert (await connect(app).post(LOGIN, data=WRONG)).status_code == 401

    spans = exporter.get_finished_spans()
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    assert server.attributes is not None
    assert server.attributes["http.route"] == LOGIN
    statements = [span for span in spans if span.kind is SpanKind.CLIENT]
    assert statements, [span.name for span in spans]
    by_id = {span.context.span_id: span for span in spans}
    for statement in statements:
        assert server in list(ancestors(statement, by_id))
    assert {span.context.trace_id for span in spans} == {server.context.trace_id}


async def test_each_log_line_of_a_traced_request_carries_its_trace_id(
    traced: Callable[..., tuple[FastAPI, InMemorySpanExporter]],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, exporter = traced(LOG_JSON=True, LOG_LEVEL="INFO")

    response = await connect(app).post(LOGIN, data=WRONG, headers={"X-Request-ID": "traced-1"})

    [server] = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [access] = [line for line in lines if line.get("logger") == "access"]
    assert access["request_id"] == response.headers["X-Request-ID"] == "traced-1"
    assert access["trace_id"] == format_trace_id(server.context.trace_id)
    assert access["span_id"]


async def test_spans_reach_the_collector_with_the_service_name(
    traced: Callable[..., tuple[FastAPI, InMemorySpanExporter]],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    collector: Collector,
) -> None:
    app, _ = traced(OTEL_SERVICE_NAME="orders")

    assert (await connect(app).post(LOGIN, data=WRONG)).status_code == 401
    app.state.tracer_provider.force_flush()

    resource_spans = [spans for export in collector.exports for spans in export.resource_spans]
    names = {
        a.value.string_value
        for spans in resource_spans
        for a in spans.resource.attributes
        if a.key == "service.name"
    }
    assert names == {"orders"}
    exported = [span.name for spans in resource_spans for scope in spans.scope_spans for span in scope.spans]
    assert f"POST {LOGIN}" in exported


def test_without_a_collector_nothing_of_the_sdk_is_loaded() -> None:
    probe = (
        "import sys\n"
        "from core.app import create_app\n"
        "from tests.helpers import make_settings\n"
        "app = create_app(make_settings('sqlite://'))\n"
        "assert app.state.tracer_provider is None\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter',"
        " 'opentelemetry.instrumentation'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
