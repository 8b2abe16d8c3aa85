"""Settings: production refuses unsafe values, and the rest have safe defaults."""

import os
import secrets
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.app import create_app
from core.config import (
    EXAMPLE_SECRET_KEY,
    MIN_SECRET_KEY_BITS,
    MIN_SECRET_KEY_BYTES,
    ConfigurationError,
    Settings,
    get_settings,
    secret_key_bits,
)
from modules.auth.settings import AuthSettings
from tests.helpers import ROOT, make_settings

GOOD_KEY = "q3Zr8v-LpW1xN0tYc7sKfH2mBdJ5gAeU"


def production(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": GOOD_KEY,
        "MAIL_BACKEND": "smtp",
        **overrides,
    }
    return make_settings(f"sqlite:///{tmp_path / 'prod.db'}", **values)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"SECRET_KEY": None}, "SECRET_KEY is not set", id="missing-key"),
        pytest.param({"SECRET_KEY": EXAMPLE_SECRET_KEY}, "example value", id="example-key"),
        pytest.param(
            {"SECRET_KEY": EXAMPLE_SECRET_KEY.upper()}, "example value", id="example-key-upper-case"
        ),
        pytest.param({"SECRET_KEY": GOOD_KEY[:-1]}, "shorter than 32 bytes", id="short-key"),
        pytest.param({"SECRET_KEY": "k" * 64}, "fewer than 10 distinct characters", id="one-character"),
        pytest.param({"SECRET_KEY": "012345678" * 5}, "fewer than 10 distinct", id="nine-characters"),
        pytest.param({"SECRET_KEY": "0123456789" * 8}, "too predictable", id="ten-characters-repeated"),
        pytest.param({"SECRET_KEY": string.ascii_letters}, "too predictable", id="the-alphabet"),
        pytest.param({"SECRET_KEY": "q3Zr8v-LpW1x" * 4}, "too predictable", id="a-random-piece-repeated"),
        # 128 bits (an MD5 digest): half what RFC 7518 asks of an HS256 key.
        pytest.param({"SECRET_KEY": "5f4dcc3b5aa765d61d8327deb882cf99"}, "too predictable", id="128-bit-hex"),
        pytest.param({"SECRET_KEY": secrets.token_hex(32)}, None, id="256-bit-hex"),
        pytest.param({"SECRET_KEY": secrets.token_urlsafe(32)}, None, id="256-bit-urlsafe"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY} "}, "contains whitespace", id="trailing-space"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY}\tx"}, "contains whitespace", id="inner-tab"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY}\u200bx"}, "invisible character (U+200B)", id="zero-width"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY}\u00a0x"}, "(U+00A0)", id="no-break-space"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY}\u2060x"}, "(U+2060)", id="word-joiner"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY}\u3000x"}, "(U+3000)", id="ideographic-space"),
        pytest.param({"SECRET_KEY": f"{GOOD_KEY}\u2028x"}, "(U+2028)", id="line-separator"),
        pytest.param({"SECRET_KEY": f"\ufeff{GOOD_KEY}"}, "(U+FEFF)", id="byte-order-mark"),
        pytest.param({"MAIL_BACKEND": "console"}, "MAIL_BACKEND=console", id="mail-in-the-log"),
        pytest.param(
            {"MAIL_BACKEND": "console", "MAIL_CONSOLE_IN_PRODUCTION": True},
            None,
            id="mail-in-the-log-accepted",
        ),
        pytest.param(
            {"CORS_ORIGINS": ["https://app.example.com", "*"], "CORS_ALLOW_CREDENTIALS": True},
            "CORS_ORIGINS allows '*'",
            id="cors-star-with-credentials",
        ),
        pytest.param(
            {"CORS_ORIGINS": ["null"], "CORS_ALLOW_CREDENTIALS": True},
            "CORS_ORIGINS allows 'null'",
            id="cors-null-with-credentials",
        ),
        pytest.param(
            {"CORS_ORIGINS": ["NULL"], "CORS_ALLOW_CREDENTIALS": True},
            "CORS_ORIGINS allows 'NULL'",
            id="cors-null-upper-case-with-credentials",
        ),
        pytest.param(
            {"CORS_ORIGINS": ["https://*.example.com"], "CORS_ALLOW_CREDENTIALS": True},
            "CORS_ORIGINS allows 'https://*.example.com'",
            id="cors-wildcard-pattern-with-credentials",
        ),
    ],
)
def test_production_refuses_unsafe_settings(
    tmp_path: Path, overrides: dict[str, Any], reason: str | None
) -> None:
    if reason is None:  # the edge that passes, beside the one that is refused
        assert isinstance(create_app(production(tmp_path, **overrides)), FastAPI)
        return
    with pytest.raises(ConfigurationError) as refused:
        create_app(production(tmp_path, **overrides))

    assert isinstance(refused.value, SystemExit)
    message = str(refused.value.code)
    assert reason in message
    assert "\n" not in message


def test_production_refuses_before_touching_the_database(tmp_path: Path) -> None:
    database = tmp_path / "never" / "app.db"

    with pytest.raises(ConfigurationError):
        create_app(make_settings(f"sqlite:///{database}", ENVIRONMENT="production", SECRET_KEY=None))

    assert not database.parent.exists()


def test_production_counts_key_length_in_bytes(tmp_path: Path) -> None:
    # 16 two-byte characters are 32 bytes: long enough, though far too few to be unguessable.
    key = "éèêëàâäôöûüùçîïœ"
    assert len(key) == MIN_SECRET_KEY_BYTES // 2

    with pytest.raises(ConfigurationError) as refused:
        create_app(production(tmp_path, SECRET_KEY=key))

    assert "too predictable" in str(refused.value.code)


def test_a_key_of_random_characters_from_any_alphabet_is_accepted(tmp_path: Path) -> None:
    alphabet = "αβγδεζηθικλμνξοπρστυφχψωабвгдежзийклмнопрстуфхцчшщ"
    key = "".join(secrets.choice(alphabet) for _ in range(40))

    assert secret_key_bits(key) >= MIN_SECRET_KEY_BITS
    assert isinstance(create_app(production(tmp_path, SECRET_KEY=key)), FastAPI)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="plain"),
        pytest.param(
            {"CORS_ORIGINS": ["*"], "CORS_ALLOW_CREDENTIALS": False}, id="cors-star-without-credentials"
        ),
        pytest.param({"CORS_ORIGINS": ["https://app.example.com"]}, id="cors-origin-with-credentials"),
        pytest.param(
            {"CORS_ORIGINS": ["null"], "CORS_ALLOW_CREDENTIALS": False}, id="cors-null-without-credentials"
        ),
    ],
)
def test_production_starts_with_a_good_config(tmp_path: Path, overrides: dict[str, Any]) -> None:
    app = create_app(production(tmp_path, **overrides))

    assert app.state.settings.ENVIRONMENT == "production"


@pytest.mark.parametrize("environment", ["local", "test"])
def test_unsafe_settings_are_allowed_outside_production(tmp_path: Path, environment: str) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'dev.db'}", ENVIRONMENT=environment, SECRET_KEY=EXAMPLE_SECRET_KEY
    )

    assert isinstance(create_app(settings), FastAPI)


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any setting the service reads, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key not in Settings.model_fields}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_production_process_without_secret_key_exits_with_one_line(tmp_path: Path) -> None:
    # The working directory has no .env, so nothing can supply a key.
    result = subprocess.run(
        [sys.executable, "-c", "from core.app import create_app; create_app()"],
        cwd=tmp_path,
        env=clean_environment(ENVIRONMENT="production"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_settings_read_dotenv_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PROJECT_NAME=From dotenv\nOTEL_SERVICE_NAME=\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROJECT_NAME", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)

    settings = Settings()

    assert settings.PROJECT_NAME == "From dotenv"
    # An empty value means unset, as in .env.example.
    assert settings.OTEL_SERVICE_NAME is None


def test_environment_overrides_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("PROJECT_NAME=From dotenv\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROJECT_NAME", "From environment")

    assert Settings().PROJECT_NAME == "From environment"


def local_settings() -> Settings:
    return make_settings("sqlite://", ENVIRONMENT="local", SECRET_KEY=None)


def test_missing_secret_key_outside_production_is_random_per_settings() -> None:
    first, second = local_settings(), local_settings()

    assert first.secret_key != second.secret_key
    assert len(first.secret_key.encode()) >= MIN_SECRET_KEY_BYTES


def test_random_secret_key_is_stable_for_one_settings() -> None:
    settings = local_settings()

    assert settings.secret_key == settings.secret_key


def test_given_secret_key_is_used() -> None:
    assert make_settings("sqlite://", SECRET_KEY=GOOD_KEY).secret_key == GOOD_KEY


def test_secret_key_is_hidden_in_repr() -> None:
    assert GOOD_KEY not in repr(make_settings("sqlite://", SECRET_KEY=GOOD_KEY))


@pytest.mark.parametrize(
    ("environment", "log_json", "expected"),
    [("production", None, True), ("local", None, False), ("test", None, False), ("production", False, False)],
)
def test_json_logs_default_to_production_only(
    environment: str, log_json: bool | None, expected: bool
) -> None:
    settings = make_settings("sqlite://", ENVIRONMENT=environment, LOG_JSON=log_json)

    assert settings.log_json is expected


async def test_request_time_settings_are_the_apps_own(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> None:
    # The opposite of what the process's settings (environment, .env) say.
    process_open = get_settings().section(AuthSettings).OPEN_REGISTRATION
    app = make_app(migrated=True, PROJECT_NAME="Own name", OPEN_REGISTRATION=not process_open)

    response = await connect(app).post(
        "/api/v1/auth/register", json={"email": "a@example.com", "password": "password123"}
    )

    assert response.status_code == (403 if process_open else 201)
    assert app.title == "Own name"


def test_the_service_name_is_the_project_name_made_a_key_unless_set() -> None:
    assert Settings(_env_file=None, PROJECT_NAME="Acme Orders API").service_name == "acme-orders-api"  # type: ignore[call-arg]
    named = Settings(_env_file=None, PROJECT_NAME="Acme", SERVICE_NAME="acme-eu")  # type: ignore[call-arg]
    assert named.service_name == "acme-eu"
