"""Logging: one access event per request, secrets redacted, JSON when asked for."""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from core.config import API_PREFIX
from core.logging import REDACTED, configure_logging, redact_secrets
from modules.users.models import User
from tests.helpers import make_settings


def json_events(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines()]


def access_events(err: str) -> list[dict[str, Any]]:
    return [event for event in json_events(err) if event.get("logger") == "access"]


@pytest.fixture
def json_logs() -> Callable[[], None]:
    """Switch to JSON at INFO; call it inside the test, where `capsys` has replaced stderr."""
    return lambda: configure_logging(make_settings("sqlite://", LOG_JSON=True, LOG_LEVEL="INFO"))


async def test_one_access_event_per_request_with_its_fields(
    client: httpx.AsyncClient, json_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    json_logs()
    response = await client.get("/health?probe=1", headers={"X-Request-ID": "access-1"})

    [event] = access_events(capsys.readouterr().err)
    assert event["event"] == "request"
    assert event["request_id"] == response.headers["X-Request-ID"] == "access-1"
    assert (event["method"], event["path"], event["status"]) == ("GET", "/health", 200)
    assert isinstance(event["duration_ms"], float)
    assert event["duration_ms"] >= 0
    assert event["user_id"] is None
    assert event["level"] == "info"
    assert event["timestamp"].endswith("Z")


async def test_access_event_names_the_authenticated_user(
    client: httpx.AsyncClient,
    user: User,
    user_headers: dict[str, str],
    json_logs: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    json_logs()
    await client.get(f"{API_PREFIX}/users/me", headers=user_headers)

    [event] = access_events(capsys.readouterr().err)
    assert event["user_id"] == str(user.id)
    assert event["status"] == 200


async def test_access_events_do_not_leak_the_user_into_the_next_request(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    json_logs: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    json_logs()
    await client.get(f"{API_PREFIX}/users/me", headers=user_headers)
    await client.get(f"{API_PREFIX}/users/me")

    first, second = access_events(capsys.readouterr().err)
    assert first["user_id"] is not None
    assert (second["user_id"], second["status"]) == (None, 401)
    assert first["request_id"] != second["request_id"]


async def test_access_event_logs_the_status_of_errors(
    client: httpx.AsyncClient, json_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    json_logs()
    await client.get(f"{API_PREFIX}/users/not-a-uuid")
    await client.get("/no/such/path")

    statuses = [event["status"] for event in access_events(capsys.readouterr().err)]
    assert statuses == [401, 404]


async def test_access_event_does_not_log_the_token(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    json_logs: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    json_logs()
    await client.get(f"{API_PREFIX}/users/me", headers=user_headers)

    token = user_headers["Authorization"].removeprefix("Bearer ")
    assert token not in capsys.readouterr().err


def test_log_events_redact_secret_keys(
    json_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    json_logs()
    structlog.get_logger("test").info(
        "signing_in",
        email="alice@example.com",
        password="hunter2",
        access_token="tok-123",
        refresh_token="tok-456",
        client_secret="s3",
        authorization="Bearer tok-789",
        form={"username": "alice", "password": "hunter3", "nested": [{"api_token": "tok-000"}]},
    )

    err = capsys.readouterr().err
    [event] = [e for e in json_events(err) if e["event"] == "signing_in"]
    for secret in ("hunter2", "hunter3", "tok-123", "tok-456", 's3"', "tok-789", "tok-000"):
        assert secret not in err
    assert event["password"] == event["access_token"] == event["authorization"] == REDACTED
    assert event["form"] == {"username": "alice", "password": REDACTED, "nested": [{"api_token": REDACTED}]}
    assert event["email"] == "alice@example.com"


def test_redact_secrets_leaves_the_callers_dict_alone() -> None:
    form = {"password": "hunter2"}

    redacted = redact_secrets(None, "info", {"event": "x", "form": form, "Cookie": "session=1"})

    assert redacted == {"event": "x", "form": {"password": REDACTED}, "Cookie": REDACTED}
    assert form == {"password": "hunter2"}


async def test_log_json_setting_gives_json_lines(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = connect(make_app(LOG_JSON=True, LOG_LEVEL="INFO"))

    await client.get("/health")

    events = json_events(capsys.readouterr().err)
    assert [event["event"] for event in events if event["logger"] == "access"] == ["request"]
    assert all({"event", "level", "logger", "timestamp"} <= event.keys() for event in events)


async def test_console_logs_are_readable_lines(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = connect(make_app(LOG_JSON=False, LOG_LEVEL="INFO"))

    await client.get("/health", headers={"X-Request-ID": "console-1"})

    [line] = [line for line in capsys.readouterr().err.splitlines() if "[access]" in line]
    assert "request_id=console-1" in line
    assert "status=200" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


async def test_log_level_warning_hides_access_events(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = connect(make_app(LOG_JSON=True, LOG_LEVEL="WARNING"))

    await client.get("/health")

    assert access_events(capsys.readouterr().err) == []


def test_standard_library_logs_go_through_the_same_pipeline(
    json_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    json_logs()
    import logging

    logging.getLogger("some.library").warning("plain %s", "message")

    [event] = json_events(capsys.readouterr().err)
    assert (event["event"], event["logger"], event["level"]) == ("plain message", "some.library", "warning")
