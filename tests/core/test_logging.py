"""Logging: one access event per request, secrets redacted, JSON when asked for."""

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.config import API_PREFIX
from core.logging import REDACTED, configure_logging, redact_secrets
from modules.users.models import User
from modules.users.schemas import UserCreate, UserRegister
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


# --- secrets inside text, control characters ---

SECRET = "hunter2-secret"

LogFormat = Callable[[], None]


@pytest.fixture(params=["json", "console"])
def any_format(request: pytest.FixtureRequest) -> LogFormat:
    """Configure one of the two formats at DEBUG; call it inside the test, after capsys took stderr."""
    as_json = request.param == "json"
    return lambda: configure_logging(make_settings("sqlite://", LOG_JSON=as_json, LOG_LEVEL="DEBUG"))


def _request_validation_error() -> RequestValidationError:
    """What FastAPI raises for a register body whose password is too short."""
    with pytest.raises(ValidationError) as invalid:
        UserRegister(email="alice@example.com", password="short1")  # type: ignore[arg-type]
    errors = [{**error, "loc": ("body", *error["loc"])} for error in invalid.value.errors()]
    return RequestValidationError(errors, body={"email": "alice@example.com", "password": "short1"})


def test_a_validation_error_does_not_log_the_password_it_refused(
    any_format: LogFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    any_format()
    exc = _request_validation_error()
    log = structlog.get_logger("test")

    log.warning("invalid_request", errors=exc.errors(), body=exc.body)
    log.error("invalid_request", exc_info=exc)
    logging.getLogger("some.library").error("rejected: %s", exc)

    err = capsys.readouterr().err
    assert "short1" not in err
    assert "String should have at least 8 characters" in err  # the reason stays readable


def test_a_traceback_does_not_log_a_password_a_model_refused(
    any_format: LogFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    # As when FIRST_SUPERUSER_PASSWORD is too short, or any model is built from a secret in code.
    any_format()
    try:
        UserCreate(email="root@example.com", password="short1")  # type: ignore[arg-type]
    except ValidationError as exc:
        structlog.get_logger("test").error("unhandled_error", exc_info=exc)

    err = capsys.readouterr().err
    assert "ValidationError" in err
    assert "short1" not in err


@pytest.mark.parametrize(
    "text",
    [
        f"User(email='a@b.io', hashed_password='{SECRET}')",
        f"{{'access_token': \"{SECRET}\", 'token_type': 'bearer'}}",
        f"headers: Authorization: Bearer {SECRET}",
        f"password={SECRET} and more",
    ],
)
def test_secrets_written_into_text_are_redacted(
    any_format: LogFormat, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    any_format()
    structlog.get_logger("test").error("failed", error=text)
    logging.getLogger("some.library").error(text)

    err = capsys.readouterr().err
    assert SECRET not in err
    assert REDACTED in err


def test_a_link_in_a_console_mail_keeps_its_token(
    json_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    # The console mail backend logs its links on purpose, so `make run` needs no mail server.
    json_logs()
    structlog.get_logger("core.mail").info("mail_sent", body="Open http://x/reset-password?token=abc.def")

    assert "?token=abc.def" in capsys.readouterr().err


def test_database_errors_do_not_quote_the_statements_parameters(db: Session, user: User) -> None:
    clash = User(email=user.email, hashed_password=SECRET)
    db.add(clash)
    with pytest.raises(IntegrityError) as failed:
        db.commit()
    db.rollback()

    assert SECRET not in str(failed.value)
    assert "hidden" in str(failed.value)


async def test_control_characters_in_a_request_path_are_escaped(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
    log_json: bool,
) -> None:
    client = connect(make_app(LOG_JSON=log_json, LOG_LEVEL="INFO"))

    await client.get("/%1b[31mred%0aforged%c2%9b%e2%80%ae")

    err = capsys.readouterr().err
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", err)
    [line] = [line for line in err.splitlines() if "access" in line]
    if log_json:
        assert json.loads(line)["path"] == "/\\x1b[31mred\\nforged\\x9b\\u202e"
    else:
        assert "path=/\\x1b[31mred\\nforged\\x9b\\u202e" in line


@pytest.fixture(params=[True, False], ids=["json", "console"])
def log_json(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_a_traceback_keeps_its_lines_and_loses_its_escapes(
    any_format: LogFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    any_format()
    try:
        raise ValueError("bad \x1b[2J input")
    except ValueError as exc:
        structlog.get_logger("test").error("unhandled_error", exc_info=exc)

    err = capsys.readouterr().err
    assert "\x1b" not in err
    text = json.loads(err)["exception"] if err.startswith("{") else err
    assert "bad \\x1b[2J input" in text
    assert "Traceback (most recent call last):\n" in text


async def test_a_refused_request_body_does_not_reach_the_log(
    make_app: Callable[..., FastAPI],
    connect: Callable[[FastAPI], httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
    log_json: bool,
) -> None:
    client = connect(make_app(migrated=True, LOG_JSON=log_json, LOG_LEVEL="DEBUG"))

    r = await client.post(
        f"{API_PREFIX}/auth/register", json={"email": "a@example.com", "password": "short1"}
    )

    assert r.status_code == 422
    err = capsys.readouterr().err
    assert "status=422" in err or '"status": 422' in err
    assert "short1" not in err
