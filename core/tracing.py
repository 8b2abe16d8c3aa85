"""OpenTelemetry traces: a server span per request (FastAPI's own instrumentation) with a span
per SQL statement under it, sent to the OTLP/HTTP collector at OTEL_EXPORTER_OTLP_ENDPOINT.

Off unless that setting is given, and then the SDK, the exporter and the SQLAlchemy
instrumentation are not even imported. Each app gets a tracer provider of its own rather than
the process-wide one, so apps (tests make many) never share one, and this app's provider is the
only one FastAPI's telemetry reports to: its global auto-configuration stays out of the way.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fastapi.telemetry import TelemetryConfig
from structlog.typing import EventDict, Processor

from core.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def tracer_provider(settings: Settings) -> "TracerProvider | None":
    """The provider exporting this app's spans, or None when tracing is off."""
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service_name = settings.OTEL_SERVICE_NAME or settings.PROJECT_NAME
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    # The setting is the collector's base URL, as OpenTelemetry's own variable of that name is.
    endpoint = f"{settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip('/')}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def telemetry(provider: "TracerProvider | None") -> TelemetryConfig:
    """FastAPI's telemetry: spans into `provider`, or nothing at all (not even the per-request
    check for a global provider). Metrics are Prometheus's (`core.metrics`); logs, structlog's."""
    if provider is None:
        return {"tracing": False, "metrics": False, "logs": False}
    return {"tracer_provider": provider, "metrics": False, "logs": False}


def trace_engine(engine: Any, provider: "TracerProvider") -> None:
    """A span per statement of `engine` (an Engine or AsyncEngine), under the request's span.

    The engine's own listeners, rather than SQLAlchemyInstrumentor, which would also patch
    `create_engine` for the whole process and serve one provider only."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    scope = "opentelemetry.instrumentation.sqlalchemy"
    # Its connection counter goes to OpenTelemetry's no-op meter: the pool is Prometheus's.
    connections = get_meter(scope).create_up_down_counter("db.client.connections.usage")
    traced = getattr(engine, "sync_engine", engine)  # an AsyncEngine runs its statements on this
    EngineTracer(provider.get_tracer(scope), traced, connections)  # type: ignore[no-untyped-call]


def trace_ids() -> Processor:
    """A log processor adding the current span's `trace_id` and `span_id`, so each line of a
    traced request leads to its trace."""
    from opentelemetry import trace

    def add_trace_ids(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event_dict["trace_id"] = trace.format_trace_id(context.trace_id)
            event_dict["span_id"] = trace.format_span_id(context.span_id)
        return event_dict

    return add_trace_ids


def current_traceparent() -> str | None:
    """The current span as a W3C `traceparent`, to carry into work done later (an event's
    delivery); None outside a traced request. Without tracing, OpenTelemetry is never imported."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    span_id = trace.format_span_id(context.span_id)
    return f"00-{trace.format_trace_id(context.trace_id)}-{span_id}-{int(context.trace_flags):02x}"


@contextmanager
def linked_span(provider: "TracerProvider | None", name: str, traceparent: str | None) -> Iterator[None]:
    """A span for work done on behalf of an earlier request, linked to that request's trace
    (`traceparent`, from `current_traceparent`), so the trace viewer leads from one to the other."""
    if provider is None:
        yield
        return
    from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags

    links = []
    if traceparent:
        _version, trace_id, span_id, flags = traceparent.split("-")
        remote = SpanContext(int(trace_id, 16), int(span_id, 16), True, TraceFlags(int(flags, 16)))
        links.append(Link(remote))
    with provider.get_tracer("core.events").start_as_current_span(name, kind=SpanKind.CONSUMER, links=links):
        yield
