"""The mail path: the console backend `make run` uses, and SMTP against a real server."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from fastapi import FastAPI
from sqlmodel import Session

from core.config import Settings
from core.db import create_db_engine
from core.links import SignedLink
from core.mail import Mail, send_mail
from modules.auth.password_reset import RESET_LINK, reset_mail
from modules.users.models import User
from modules.users.schemas import UserCreate
from modules.users.service import create_user
from modules.users.verification import VERIFY_LINK, email_change_mail, verification_mail
from tests.auth.lifecycle import (
    RESET_PATH,
    VERIFY_PATH,
    Outbox,
    free_port,
    own_client,
    smtp_server,
    token_in,
)
from tests.helpers import PASSWORD, ROOT, TEST_SECRET_KEY, make_settings, migrate

VERIFY_REQUEST = "/api/v1/auth/verify/request"
RESET_REQUEST = "/api/v1/auth/password-reset/request"
SMTP_LOGIN = ("mailer", "smtp-password")


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A throwaway certificate authority that this process's TLS clients trust."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


@pytest.fixture
def smtp_client(app: FastAPI, database_url: str, caplog: pytest.LogCaptureFixture) -> Callable[..., Any]:
    """A client for an app of its own that sends mail over SMTP to 127.0.0.1."""

    def client(**overrides: Any) -> Any:
        return own_client(database_url, caplog, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", **overrides)

    return client


@pytest.mark.parametrize(
    ("compose", "path", "link"),
    [
        (reset_mail, RESET_PATH, RESET_LINK),
        (verification_mail, VERIFY_PATH, VERIFY_LINK),
        (partial(email_change_mail, new_email="new@example.com"), VERIFY_PATH, VERIFY_LINK),
    ],
    ids=["reset", "verification", "email-change"],
)
def test_each_mail_expires_with_its_link(
    compose: Callable[..., Mail],
    path: str,
    link: SignedLink,
    make_user: Callable[..., User],
    settings: Settings,
) -> None:
    mail = compose(user=make_user("bob@example.com"), settings=settings)
    _, claims = link.read(token_in(mail.body, path), secret=settings.secret_key)
    assert mail.expires_at is not None
    assert mail.expires_at.timestamp() == pytest.approx(claims["exp"], abs=1)


@pytest.mark.usefixtures("app")  # the service's logging pipeline, as configured by the app
def test_console_backend_logs_the_message_with_its_link(settings: Settings, outbox: Outbox) -> None:
    body = "Open https://app.example.com/verify-email?token=abc.def-ghi"
    send_mail(Mail(to="bob@example.com", subject="Hello", body=body), settings=settings)
    [mail] = outbox.mails()
    assert (mail["to"], mail["subject"], mail["backend"]) == ("bob@example.com", "Hello", "console")
    assert token_in(mail["body"], VERIFY_PATH) == "abc.def-ghi"


@pytest.mark.usefixtures("app")
def test_console_mail_accepted_in_production_leaves_the_links_tokens_out(
    settings: Settings, outbox: Outbox
) -> None:
    production = settings.model_copy(update={"ENVIRONMENT": "production", "MAIL_CONSOLE_IN_PRODUCTION": True})
    body = "Reset: https://app.example.com/reset-password?token=abc.def-ghi&lang=en or /verify?token=x"

    send_mail(Mail(to="bob@example.com", subject="Hello", body=body), settings=production)

    [mail] = outbox.mails()
    assert mail["body"] == (
        "Reset: https://app.example.com/reset-password?token=[redacted]&lang=en or /verify?token=[redacted]"
    )


async def test_smtp_delivers_a_verification_link_that_works(
    smtp_client: Callable[..., Any], make_user: Callable[..., User]
) -> None:
    make_user("bob@example.com", is_verified=False)
    with smtp_server() as mailbox:
        async with smtp_client(
            SMTP_PORT=mailbox.port,
            SMTP_TLS="none",
            MAIL_FROM="hello@example.org",
            FRONTEND_URL="https://app.example.org/",
        ) as http:
            r = await http.post(VERIFY_REQUEST, json={"email": "bob@example.com"})
            assert r.status_code == 202, r.text
            [(recipients, message)] = mailbox.messages
            assert recipients == ["bob@example.com"]
            assert message["To"] == "bob@example.com"
            assert message["From"] == "FastAPI Modulith <hello@example.org>"
            assert message["Subject"] == "Verify your email address for FastAPI Modulith"
            body = message.get_content()
            assert body.count("https://app.example.org/verify-email?token=") == 1
            r = await http.post("/api/v1/auth/verify/confirm", json={"token": token_in(body, VERIFY_PATH)})
            assert r.status_code == 200, r.text
            assert r.json()["is_verified"] is True


async def test_smtp_with_starttls_and_login_delivers_a_reset_link_that_works(
    smtp_client: Callable[..., Any], make_user: Callable[..., User], ca: trustme.CA
) -> None:
    make_user("bob@example.com")
    with smtp_server(tls="starttls", ca=ca, credentials=SMTP_LOGIN) as mailbox:
        async with smtp_client(
            SMTP_PORT=mailbox.port, SMTP_TLS="starttls", SMTP_USER=SMTP_LOGIN[0], SMTP_PASSWORD=SMTP_LOGIN[1]
        ) as http:
            r = await http.post(RESET_REQUEST, json={"email": "bob@example.com"})
            assert r.status_code == 202, r.text
            assert mailbox.logins == ["mailer"]
            [(recipients, message)] = mailbox.messages
            assert recipients == ["bob@example.com"]
            assert message["Subject"] == "Reset your password for FastAPI Modulith"
            token = token_in(message.get_content(), RESET_PATH)
            r = await http.post(
                "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "a new password"}
            )
            assert r.status_code == 204, r.text
            r = await http.post(
                "/api/v1/auth/login", data={"username": "bob@example.com", "password": "a new password"}
            )
            assert r.status_code == 200, r.text


async def test_smtp_over_ssl_delivers(
    smtp_client: Callable[..., Any], make_user: Callable[..., User], ca: trustme.CA
) -> None:
    make_user("bob@example.com", is_verified=False)
    with smtp_server(tls="ssl", ca=ca) as mailbox:
        async with smtp_client(SMTP_PORT=mailbox.port, SMTP_TLS="ssl") as http:
            r = await http.post(VERIFY_REQUEST, json={"email": "bob@example.com"})
            assert r.status_code == 202, r.text
            [(recipients, _message)] = mailbox.messages
            assert recipients == ["bob@example.com"]


def test_a_subject_with_line_breaks_stays_one_header(settings: Settings) -> None:
    """A subject can quote what a user wrote (a team's name): line breaks in it neither
    add a header nor stop the message from being sent."""
    subject = "You are invited to Acme\r\nBcc: everyone@example.com\u2028\tnow"
    with smtp_server() as mailbox:
        smtp = settings.model_copy(
            update={
                "MAIL_BACKEND": "smtp",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": mailbox.port,
                "SMTP_TLS": "none",
            }
        )
        send_mail(Mail(to="bob@example.com", subject=subject, body="Hello"), settings=smtp)
    [(recipients, message)] = mailbox.messages
    assert recipients == ["bob@example.com"]
    assert message["Subject"] == "You are invited to Acme Bcc: everyone@example.com now"
    assert message["Bcc"] is None


async def test_starttls_refuses_a_server_certificate_it_cannot_verify(
    smtp_client: Callable[..., Any], make_user: Callable[..., User], outbox: Outbox, caplog: Any
) -> None:
    make_user("bob@example.com")
    # Issued by a CA this process does not trust.
    with smtp_server(tls="starttls", ca=trustme.CA()) as mailbox:
        async with smtp_client(SMTP_PORT=mailbox.port, SMTP_TLS="starttls") as http:
            r = await http.post(RESET_REQUEST, json={"email": "bob@example.com"})
    assert r.status_code == 202, r.text
    assert mailbox.messages == []
    assert [record.msg["event"] for record in caplog.records if record.name == "core.mail"] == ["mail_failed"]


async def test_a_wrong_smtp_password_is_logged_and_the_client_still_gets_202(
    smtp_client: Callable[..., Any], make_user: Callable[..., User], ca: trustme.CA, caplog: Any
) -> None:
    make_user("bob@example.com")
    caplog.set_level("INFO", logger="core.mail")
    with smtp_server(tls="starttls", ca=ca, credentials=SMTP_LOGIN) as mailbox:
        async with smtp_client(
            SMTP_PORT=mailbox.port, SMTP_TLS="starttls", SMTP_USER="mailer", SMTP_PASSWORD="wrong"
        ) as http:
            r = await http.post(RESET_REQUEST, json={"email": "bob@example.com"})
    assert r.status_code == 202, r.text
    assert mailbox.messages == []
    [failure] = [record for record in caplog.records if record.name == "core.mail"]
    assert failure.msg["event"] == "mail_failed"
    assert failure.msg["to"] == "bob@example.com"
    assert failure.msg["error"].startswith("SMTPAuthenticationError: (535")
    # No traceback (whose locals would hold the password and the link), no password.
    assert failure.exc_info is None
    assert "exc_info" not in failure.msg
    assert "wrong" not in str(failure.msg)


async def test_an_smtp_server_that_is_down_never_reaches_the_client(
    smtp_client: Callable[..., Any], make_user: Callable[..., User], caplog: Any
) -> None:
    make_user("bob@example.com")
    caplog.set_level("INFO", logger="core.mail")
    async with smtp_client(SMTP_PORT=free_port(), SMTP_TLS="none", SMTP_TIMEOUT_SECONDS=2) as http:
        r = await http.post(RESET_REQUEST, json={"email": "bob@example.com"})
    assert r.status_code == 202, r.text
    assert [record.msg["event"] for record in caplog.records if record.name == "core.mail"] == ["mail_failed"]


@contextmanager
def serving(command: list[str], log: Path, port: int, **settings: str) -> Iterator[str]:
    """Run the service as a real process (its output going to `log`) until it answers on `port`."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
        "SECRET_KEY": TEST_SECRET_KEY,
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "false",
        "RATE_LIMIT_ENABLED": "false",
        "BCRYPT_ROUNDS": "4",
        # Its metrics port too is free: another service on this machine (a test of another suite
        # running beside this one) may hold the default one, and `core.serve` stops when taken.
        "METRICS_PORT": str(free_port()),
        **settings,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        # Generous: `make run` in a fresh project installs .venv first.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            pytest.fail(f"{command} did not answer within 600 s:\n{log.read_text()}")
        yield base_url
    finally:
        # The service may have stopped already (the assertion above says why): nothing to end.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`make run` on a free port with a database of its own, and the file its output goes to."""
    port, log = free_port(), tmp_path / "run.log"
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    with serving(
        ["make", "run", f"PORT={port}"],
        log,
        port,
        # Whatever the project's .env says: this test registers through an open door.
        DATABASE_URL=database_url,
        MAIL_BACKEND="console",
        OPEN_REGISTRATION="true",
    ):
        yield f"http://127.0.0.1:{port}", log


@pytest.mark.slow
def test_make_run_logs_a_verification_link_that_works(served: tuple[str, Path]) -> None:
    base_url, log = served
    with httpx.Client(base_url=base_url, timeout=10) as http:
        r = http.post("/api/v1/auth/register", json={"email": "bob@example.com", "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = http.post(VERIFY_REQUEST, json={"email": "bob@example.com"})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 10
        while "mail_sent" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        [line] = [line for line in log.read_text().splitlines() if "mail_sent" in line]
        assert re.search(r"to=['\"]?bob@example.com", line), line
        r = http.post("/api/v1/auth/verify/confirm", json={"token": token_in(line, VERIFY_PATH)})
        assert r.status_code == 200, r.text


def test_request_time_does_not_depend_on_whether_mail_goes_out(tmp_path: Path) -> None:
    """Served for real, with an SMTP server that accepts connections and then never answers:
    mail to an existing account hangs in the background, the response does not wait for it."""
    database_url = f"sqlite:///{tmp_path / 'timing.db'}"
    engine = create_db_engine(make_settings(database_url))
    migrate(engine)
    with Session(engine) as session:
        create_user(session=session, user_in=UserCreate(email="bob@example.com", password=PASSWORD), rounds=4)
    engine.dispose()
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "core.app:create_app", "--factory", "--port", str(port)]
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(silent.getsockname()[1]), "SMTP_TLS": "none"}
        with (
            serving(
                command,
                tmp_path / "timing.log",
                port,
                DATABASE_URL=database_url,
                MAIL_BACKEND="smtp",
                SMTP_TIMEOUT_SECONDS="20",
                **smtp,
            ) as base_url,
            httpx.Client(base_url=base_url, timeout=30) as http,
        ):
            for email in ("bob@example.com", "nobody@example.com"):
                started = time.monotonic()
                r = http.post(RESET_REQUEST, json={"email": email})
                assert r.status_code == 202, r.text
                assert time.monotonic() - started < 5, email
            # Let the pending mail fail now rather than at its timeout, so the server stops at once.
            silent.close()
