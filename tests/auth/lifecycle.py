"""Helpers for the account lifecycle tests: reading the mail the service sends.

`Outbox` reads what the console backend logged (the path `make run` uses); `smtp_server`
runs a real SMTP server (aiosmtpd) on loopback and keeps what it receives.
"""

import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal

import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from core.app import create_app
from tests.helpers import app_client, make_settings

VERIFY_PATH = "verify-email"
RESET_PATH = "reset-password"


def token_in(text: str, path: str) -> str:
    """The token of the `<FRONTEND_URL>/<path>?token=...` link in a message."""
    match = re.search(rf"/{path}\?token=([A-Za-z0-9_.-]+)", text)
    assert match, f"no /{path} link in {text!r}"
    return match.group(1)


class Outbox:
    """The messages the console mail backend logged during the test."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="core.mail")
        self._caplog = caplog

    def mails(self, to: str | None = None) -> list[dict[str, Any]]:
        return [
            record.msg
            for record in self._caplog.records
            if record.name == "core.mail"
            and isinstance(record.msg, dict)
            and record.msg.get("event") == "mail_sent"
            and to in (None, record.msg["to"])
        ]

    def token(self, to: str, path: str) -> str:
        """The token in the last message sent to `to`."""
        mails = self.mails(to)
        assert mails, f"no mail to {to}"
        return token_in(mails[-1]["body"], path)


@asynccontextmanager
async def own_client(
    database_url: str, caplog: pytest.LogCaptureFixture, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app of its own, with other settings, on the test database.

    Use it with the `app` fixture, which migrates that database and empties it after the test.
    """
    app = create_app(make_settings(database_url, **overrides))
    # The app factory reconfigures logging, which drops pytest's capture handler: put it back.
    logging.getLogger().addHandler(caplog.handler)
    try:
        async with app_client(app) as client:
            yield client
    finally:
        app.state.engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What a test SMTP server received, and how to reach it."""

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(
    *,
    tls: Literal["none", "starttls", "ssl"] = "none",
    ca: trustme.CA | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1. With TLS, its certificate is issued by `ca` for 127.0.0.1;
    with `credentials`, it refuses mail from anyone who does not log in with them."""
    mailbox = Mailbox(port=free_port())
    server_context = None
    if tls != "none":
        assert ca is not None
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_context)

    def authenticate(
        _server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: Any
    ) -> AuthResult:
        assert credentials is not None
        assert isinstance(data, LoginPassword)
        ok = (data.login.decode(), data.password.decode()) == credentials
        if ok:
            mailbox.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        ssl_context=server_context if tls == "ssl" else None,
        tls_context=server_context if tls == "starttls" else None,
        require_starttls=tls == "starttls",
        authenticator=authenticate if credentials else None,
        auth_required=credentials is not None,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
