"""What every request gets from the app factory: request ids, JSON errors, body limits, health, docs."""

import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import Field, ValidationError

from core import discovery
from core.app import create_app
from core.config import API_PREFIX, ConfigurationError, ModuleSettings, Settings, get_settings
from core.manifest import Manifest
from core.middleware import TOO_LARGE

MIB = 1024 * 1024
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
ME = f"{API_PREFIX}/users/me"


def fails(app: FastAPI) -> FastAPI:
    def boom() -> None:
        password = "hunter2"  # a local that must never be printed with the traceback
        raise RuntimeError(f"kaboom {len(password)}")

    app.add_api_route("/boom", boom)
    return app


# --- request ids ---


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/no/such/path"),
        ("GET", f"{API_PREFIX}/users/me"),
        ("POST", f"{API_PREFIX}/auth/login"),
        ("GET", "/openapi.json"),
    ],
)
async def test_every_response_carries_a_request_id(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health")).headers["X-Request-ID"] for _ in range(3)}

    assert len(ids) == 3


@pytest.mark.parametrize("incoming", ["abc-123", "trace.id:42_x", "f" * 128])
async def test_a_sane_incoming_request_id_is_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})

    assert response.headers["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming", ["has spaces", "x" * 200, "x" * 129, "new\\nline", 'quote"d', "<script>", "ü-nicode"]
)
async def test_an_insane_incoming_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming.encode()})

    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


# --- request bodies ---


async def test_malformed_json_is_422(client: httpx.AsyncClient, user_headers: dict[str, str]) -> None:
    response = await client.patch(
        ME,
        content=b'{"full_name": "unterminated',
        headers={**user_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_unknown_body_field_is_422_and_named(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.patch(ME, json={"full_name": "ok", "is_admin": True}, headers=user_headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "is_admin"]


async def test_body_over_the_limit_with_content_length_is_413_json(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    body = json.dumps({"full_name": "x", "padding": "d" * MIB}).encode()

    response = await client.patch(
        ME, content=body, headers={**user_headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": TOO_LARGE, "code": "body_too_large"}
    assert "X-Request-ID" in response.headers


async def test_body_over_the_limit_is_413_even_where_the_route_reads_no_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.request("GET", "/health", content=b"x" * (MIB + 1))

    assert response.status_code == 413
    assert response.json() == {"detail": TOO_LARGE, "code": "body_too_large"}


async def test_streamed_body_over_the_limit_is_413_json(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b"x" * 65536  # 17 x 64 KiB: just over 1 MiB, with no Content-Length

    request = client.build_request(
        "PATCH",
        ME,
        content=chunks(),
        headers={**user_headers, "Content-Type": "application/json"},
    )
    assert "Content-Length" not in request.headers
    assert request.headers["Transfer-Encoding"] == "chunked"

    response = await client.send(request)

    assert response.status_code == 413
    assert response.json() == {"detail": TOO_LARGE, "code": "body_too_large"}
    assert "X-Request-ID" in response.headers


async def test_body_at_the_limit_is_accepted(client: httpx.AsyncClient, user_headers: dict[str, str]) -> None:
    body = json.dumps({"full_name": "x"}).encode()
    padded = body[:-1] + b" " * (MIB - len(body)) + b"}"
    assert len(padded) == MIB

    response = await client.patch(
        ME, content=padded, headers={**user_headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "x"


async def test_body_limit_follows_the_setting(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(make_app(MAX_REQUEST_BODY_BYTES=10))

    response = await client.request("GET", "/health", content=b"x" * 11)

    assert response.status_code == 413


# --- unhandled errors ---


async def test_unhandled_error_is_a_plain_500_with_the_request_id(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(fails(make_app()))

    response = await client.get("/boom", headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
    assert response.headers["X-Request-ID"] == "req-500"
    assert "kaboom" not in response.text
    assert "Traceback" not in response.text


async def test_unhandled_error_is_logged_with_the_request_id_and_traceback(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = connect(fails(make_app(LOG_JSON=True, LOG_LEVEL="INFO")))

    await client.get("/boom", headers={"X-Request-ID": "req-logged"})

    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [error] = [event for event in events if event["event"] == "unhandled_error"]
    assert error["request_id"] == "req-logged"
    assert error["level"] == "error"
    assert "RuntimeError: kaboom" in error["exception"]
    assert "hunter2" not in error["exception"]


async def test_unhandled_error_console_log_shows_no_local_variables(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = connect(fails(make_app(LOG_JSON=False, LOG_LEVEL="INFO")))

    await client.get("/boom", headers={"X-Request-ID": "req-console"})

    err = capsys.readouterr().err
    assert "unhandled_error" in err
    assert "request_id=req-console" in err
    assert "RuntimeError: kaboom" in err
    assert "hunter2" not in err


# --- health ---


async def test_health_is_ok_without_a_database(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(make_app(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))

    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_is_200_with_a_working_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


async def test_ready_is_503_when_the_sqlite_file_cannot_be_opened(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient], tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    app = make_app(database_url=f"sqlite:///{folder / 'app.db'}")
    # The app made the folder; a file in its place cannot hold a database, even for root.
    folder.rmdir()
    folder.write_text("not a folder")

    response = await connect(app).get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_ready_is_503_fast_when_postgresql_does_not_answer(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    app = make_app(database_url=f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/none")

    started = time.monotonic()
    response = await connect(app).get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
    assert time.monotonic() - started < 5


# --- CORS ---

ORIGIN = "https://app.example.com"


async def test_cors_preflight_from_an_allowed_origin(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(make_app(CORS_ORIGINS=[ORIGIN]))

    response = await client.options(
        ME,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"},
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "X-Request-ID" in response.headers


async def test_cors_headers_are_not_given_to_other_origins(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    client = connect(make_app(CORS_ORIGINS=[ORIGIN]))

    response = await client.get("/health", headers={"Origin": "https://evil.example.com"})

    assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_headers_are_on_error_responses_too(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    # A browser only shows the caller a 413 that carries CORS headers.
    client = connect(make_app(CORS_ORIGINS=[ORIGIN], MAX_REQUEST_BODY_BYTES=10))

    response = await client.patch(ME, content=b"x" * 11, headers={"Origin": ORIGIN})

    assert response.status_code == 413
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


# --- lifecycle ---


async def run_lifespan(app: FastAPI) -> list[str]:
    """Start and stop the app the way a server does; the messages it answered with."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    answered: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        answered.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return answered


async def test_shutdown_closes_the_database_connections(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()
    with app.state.engine.connect():
        pass
    assert app.state.engine.pool.checkedin() == 1

    answered = await run_lifespan(app)

    assert answered == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert app.state.engine.pool.checkedin() == 0


def test_create_app_without_settings_reads_the_process_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
            create_app()
    finally:
        get_settings.cache_clear()


# --- what modules add ---


class StrictSettings(ModuleSettings):
    STRICT_LIMIT: int = Field(default=1, gt=0)


class RefusingSettings(ModuleSettings):
    def refuse_unsafe_production(self, settings: Settings) -> None:
        raise ConfigurationError(f"{settings.PROJECT_NAME} is not ready")


def test_a_module_setting_out_of_range_stops_the_app_at_startup(
    make_app: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "settings_sections", lambda: [StrictSettings])
    with pytest.raises(ValidationError, match="STRICT_LIMIT"):
        make_app(STRICT_LIMIT=0)


def test_each_module_settings_section_may_refuse_to_start(
    make_app: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "settings_sections", lambda: [RefusingSettings])
    with pytest.raises(ConfigurationError, match="is not ready"):
        make_app()


def test_a_module_install_is_called_with_the_app_its_settings_and_engine(
    make_app: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[FastAPI, Settings, Any]] = []

    def install(app: FastAPI, *, settings: Settings, engine: Any) -> None:
        calls.append((app, settings, engine))

    found = discovery.manifests()
    monkeypatch.setattr(discovery, "manifests", lambda: {**found, "site": Manifest(install=install)})
    app = make_app()
    assert calls == [(app, app.state.settings, app.state.engine)]


# --- docs ---


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "swagger" in response.text.lower()


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: {**operation, "path": path, "method": method}
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    [
        ("users-list", "get", "/api/v1/users"),
        ("users-create", "post", "/api/v1/users"),
        ("users-read", "get", "/api/v1/users/{user_id}"),
        ("users-update", "patch", "/api/v1/users/{user_id}"),
        ("users-delete", "delete", "/api/v1/users/{user_id}"),
        ("users-read-me", "get", "/api/v1/users/me"),
        ("auth-login", "post", "/api/v1/auth/login"),
        ("health-ready", "get", "/health/ready"),
    ],
)
async def test_operation_ids_are_readable(
    client: httpx.AsyncClient, operation_id: str, method: str, path: str
) -> None:
    operation = operations(await openapi(client))[operation_id]

    assert (operation["method"], operation["path"]) == (method, path)


async def test_operation_ids_are_unique(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    ids = [operation["operationId"] for methods in schema["paths"].values() for operation in methods.values()]

    assert len(ids) == len(set(ids))


async def test_login_uses_the_oauth2_password_flow(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)

    schemes = schema["components"]["securitySchemes"]
    [(name, scheme)] = [(name, s) for name, s in schemes.items() if s["type"] == "oauth2"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"
    login = operations(schema)["auth-login"]
    assert "application/x-www-form-urlencoded" in login["requestBody"]["content"]
    assert {"security": [{name: []}]}.items() <= operations(schema)["users-list"].items()


async def test_feature_modules_are_tagged_by_name(client: httpx.AsyncClient) -> None:
    ops = operations(await openapi(client))

    assert ops["users-list"]["tags"] == ["users"]
    assert ops["auth-login"]["tags"] == ["auth"]
