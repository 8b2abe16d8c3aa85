"""Outgoing mail: one `send_mail`, two backends chosen by MAIL_BACKEND.

`console` logs the message (links included) so a laptop needs no mail server; `smtp` hands it
to a server. Routes send through FastAPI's background tasks, after the response: how long a
request takes never depends on whether a message went out.
"""

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

import structlog

from core.config import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def frontend_link(settings: Settings, page: str, token: str) -> str:
    """A link to the frontend page that takes `token` and posts it to the matching endpoint."""
    return f"{settings.FRONTEND_URL.rstrip('/')}/{page}?token={token}"


def _log(mail: Mail, settings: Settings) -> None:
    log.info("mail_sent", backend="console", to=mail.to, subject=mail.subject, body=mail.body)


def _smtp(mail: Mail, settings: Settings) -> None:
    message = EmailMessage()
    message["From"] = formataddr((settings.PROJECT_NAME, settings.MAIL_FROM))
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.MAIL_FROM.rpartition("@")[2])
    message.set_content(mail.body)

    host, port, timeout = settings.SMTP_HOST, settings.SMTP_PORT, settings.SMTP_TIMEOUT_SECONDS
    # The system's trusted CAs and hostname checking: a STARTTLS that cannot be verified fails.
    context = ssl.create_default_context()
    server = (
        smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        if settings.SMTP_TLS == "ssl"
        else smtplib.SMTP(host, port, timeout=timeout)
    )
    with server:
        if settings.SMTP_TLS == "starttls":
            server.starttls(context=context)
        if settings.SMTP_USER and settings.SMTP_PASSWORD:
            server.login(settings.SMTP_USER, settings.SMTP_PASSWORD.get_secret_value())
        server.send_message(message)
    log.info("mail_sent", backend="smtp", to=mail.to, subject=mail.subject)


_BACKENDS: dict[str, Callable[[Mail, Settings], None]] = {"console": _log, "smtp": _smtp}


def send_mail(mail: Mail, *, settings: Settings) -> None:
    """Send one message. A failure is logged, not raised: the response has already gone."""
    try:
        _BACKENDS[settings.MAIL_BACKEND](mail, settings)
    except OSError as exc:  # smtplib's errors, refused connections, timeouts and TLS failures alike
        # The error, not the traceback: a rendered traceback can show locals, the SMTP password
        # and the message (with its link) among them.
        log.error(
            "mail_failed",
            backend=settings.MAIL_BACKEND,
            to=mail.to,
            subject=mail.subject,
            error=f"{type(exc).__name__}: {exc}",
        )
