"""The app factory: settings, logging, database, middleware, and every discovered module."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from functools import partial

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from core import discovery, health, metrics, tracing
from core.config import API_PREFIX, Settings, get_settings
from core.db import create_db_engine, reads_on_loop
from core.docs import add_docs
from core.errors import RateLimitedError, add_error_handlers, document_errors, responses
from core.jobs.runner import InProcessRunner
from core.logging import configure_logging
from core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from core.naming import singular
from core.openapi import add_sign_in, add_text_rules
from core.ratelimit import build_limiter, rate_limit


def operation_id(route: APIRoute, rows: str | None = None) -> str:
    """`orders-list` rather than `list_orders_api_v1_orders_get`, for client generators. A route
    named for its module's rows (`create_order`, `read_person`) is named by its verb alone;
    `rows` is their singular where the plural is irregular (`people`)."""
    tag = str(route.tags[0]) if route.tags else "api"
    module = tag.replace("-", "_")
    verb, _, rest = route.name.partition("_")
    name = verb if rest in {module, singular(module), rows} else route.name
    return f"{tag}-{name.replace('_', '-')}"


def _rows_singular(router: APIRouter) -> str | None:
    """The singular a module's own rows go by: `person` from its `/{person_id}` route."""
    for route in router.routes:
        found = re.fullmatch(r"/\{(\w+)_id\}", getattr(route, "path", ""))
        if found:
            return found.group(1)
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Without `settings`, the process's own (`get_settings()`) are used."""
    if settings is None:
        settings = get_settings()
    settings.refuse_unsafe_production()
    # Every module's settings are read (and so validated) now, not at their first use.
    for kind in discovery.settings_sections():
        settings.section(kind).refuse_unsafe_production(settings)
    configure_logging(settings)
    engine = create_db_engine(settings)
    tracer_provider = tracing.tracer_provider(settings)
    if tracer_provider is not None:
        tracing.trace_engine(engine, tracer_provider)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner = InProcessRunner(engine, settings, tracer_provider) if settings.JOBS_IN_PROCESS else None
        if runner is not None:
            runner.start()
        async with metrics.pool_sampler(engine) if settings.METRICS_ENABLED else nullcontext():
            yield
        if runner is not None:
            await runner.stop()
        if tracer_provider is not None:
            tracer_provider.shutdown()  # sends the spans still waiting in the batch
        engine.dispose()

    app = FastAPI(
        title=settings.PROJECT_NAME,
        lifespan=lifespan,
        telemetry=tracing.telemetry(tracer_provider),
        generate_unique_id_function=operation_id,
        # A path with a slash too many (or too few) is redirected by `core.errors`, relatively.
        redirect_slashes=False,
        # Served by `core.docs` from the service's own assets instead of a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.DOCS_ENABLED else None,
    )
    if settings.DOCS_ENABLED:
        add_docs(app)
        add_text_rules(app)
        if (sign_in := discovery.sign_in_url()) is not None:
            add_sign_in(app, sign_in)
    # Request-time dependencies (`SettingsDep`) read these settings, not the process-wide ones.
    app.state.settings = settings
    app.state.engine = engine
    app.state.reads_on_loop = reads_on_loop(engine)
    app.state.tracer_provider = tracer_provider
    app.state.limiter = build_limiter(settings)

    add_error_handlers(app)
    # Middleware added last runs first: request context, then CORS, then the body limit.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.MAX_REQUEST_BODY_BYTES)
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_header_bytes=settings.MAX_REQUEST_HEADER_BYTES,
        observe=metrics.RequestMetrics() if settings.METRICS_ENABLED else None,
    )

    # Every job handler and listener known before the first request publishes anything.
    discovery.import_job_handlers()
    app.include_router(document_errors(health.router))
    for feature in discovery.routers():
        tag = feature.name.replace("_", "-")
        app.include_router(
            document_errors(feature.router),
            prefix=f"{API_PREFIX}{feature.path}",
            tags=[tag],
            dependencies=[rate_limit("default")],
            responses=responses(RateLimitedError),
            generate_unique_id_function=partial(operation_id, rows=_rows_singular(feature.router)),
        )
    # What a module serves besides its API routes (a site of its own), added by the module.
    for found in discovery.manifests().values():
        if found.install is not None:
            found.install(app, settings=settings, engine=engine)
    return app
