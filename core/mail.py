"""Outgoing mail: one `send_mail`, two backends chosen by MAIL_BACKEND.

`console` logs the message so a laptop needs no mail server (in production, which must accept it
with MAIL_CONSOLE_IN_PRODUCTION, without its links' tokens); `smtp` hands it to a server.
Services call `enqueue_mail` before they commit: the message is a job (core.jobs), recorded with
the change that causes it and sent after the commit, retried while the server fails. How long
a request takes never depends on whether a message went out, and a restart between the answer
and the send loses nothing.
"""

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

import structlog
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import utcnow
from core.jobs import GiveUp, JobContext, enqueue, handler
from core.schemas import LINE_BREAKING

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    # When the link in the body stops working: a message still unsent then (its server down for
    # that long) is given up, not sent, and the reader never gets a link that is already dead.
    expires_at: datetime | None = None


def frontend_link(settings: Settings, page: str, token: str) -> str:
    """A link to the frontend page that takes `token` and posts it to the matching endpoint."""
    return f"{settings.FRONTEND_URL.rstrip('/')}/{page}?token={token}"


# A link's token: whoever holds it can reset a password or prove an address.
_LINK_TOKEN = re.compile(r"(?<=[?&]token=)[^\s&#]+")


def _log(mail: Mail, settings: Settings, message_id: str) -> None:
    # In development the link is the point (copy it from the log); a production log is read by
    # more people than the mail would be.
    production = settings.ENVIRONMENT == "production"
    body = _LINK_TOKEN.sub("[redacted]", mail.body) if production else mail.body
    log.info(
        "mail_sent", backend="console", to=mail.to, subject=mail.subject, body=body, message_id=message_id
    )


def _header_line(text: str) -> str:
    """`text` as one header line: each run of control characters or line separators becomes
    one space. A line break would end the header (or start another), and the email package
    refuses such a message rather than send it; a subject quoting what a user wrote (a
    team's name) keeps its headers, and is sent, whatever was written."""
    return LINE_BREAKING.sub(" ", text).strip()


def _smtp(mail: Mail, settings: Settings, message_id: str) -> None:
    message = EmailMessage()
    message["From"] = formataddr((settings.PROJECT_NAME, settings.MAIL_FROM))
    message["To"] = mail.to
    message["Subject"] = _header_line(mail.subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(mail.body)

    host, port, timeout = settings.SMTP_HOST, settings.SMTP_PORT, settings.SMTP_TIMEOUT_SECONDS
    # The system's trusted CAs and hostname checking: a STARTTLS that cannot be verified fails.
    # Made only for TLS: loading the CAs costs about 0.1 s, most of a plain send to a local relay.
    context = ssl.create_default_context() if settings.SMTP_TLS != "none" else None
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
    log.info("mail_sent", backend="smtp", to=mail.to, subject=mail.subject, message_id=message_id)


_BACKENDS: dict[str, Callable[[Mail, Settings, str], None]] = {"console": _log, "smtp": _smtp}
MAIL_JOB = "mail"


def enqueue_mail(session: Session, mail: Mail) -> None:
    """Send `mail` once the session's transaction commits; nothing if it rolls back.

    The message waits in the jobs table, link included, until it is sent (a sent job is deleted).
    """
    expires_at = mail.expires_at.isoformat() if mail.expires_at else None
    enqueue(session, MAIL_JOB, {**asdict(mail), "expires_at": expires_at})


@handler(MAIL_JOB)
def _send_queued(payload: dict[str, Any], context: JobContext) -> None:
    expires_at = datetime.fromisoformat(payload["expires_at"]) if payload["expires_at"] else None
    if expires_at is not None and expires_at <= utcnow():
        raise GiveUp(f"the link expired at {expires_at.isoformat()} before the message could be sent")
    send_for_job(Mail(**{**payload, "expires_at": expires_at}), context)


def send_for_job(mail: Mail, context: JobContext) -> None:
    """Send `mail` from the job running it, as that job's one message: a job whose handler decides
    what to mail (after the request, so the answer never tells what was decided) sends this way."""
    # The job's id names the message: sent again after a crash, it is the same message, and a
    # receiving server or client can tell.
    message_id = f"<{context.job_id}@{_domain(context.settings)}>"
    send_mail(mail, settings=context.settings, message_id=message_id)


def _domain(settings: Settings) -> str:
    """The sender's domain, which names every message it sends."""
    return settings.MAIL_FROM.rpartition("@")[2]


def send_mail(mail: Mail, *, settings: Settings, message_id: str | None = None) -> None:
    """Send one message now; a failure is logged and raised, for the job to be retried."""
    if message_id is None:
        message_id = make_msgid(domain=_domain(settings))
    try:
        _BACKENDS[settings.MAIL_BACKEND](mail, settings, message_id)
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
        raise
