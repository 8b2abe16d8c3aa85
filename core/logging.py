"""One structlog pipeline for the app and uvicorn: console lines locally, JSON in production.

Every event, whoever logs it (our code, uvicorn, a library), passes through the same processors
before either renderer: a traceback is turned into text first, then secrets are redacted (by key,
and inside text such as a traceback or a validation error's message), then control characters
are escaped, so no log line can carry a password or a terminal escape sequence.
"""

import json
import logging
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from core import tracing
from core.config import Settings

_SECRET_NAMES = r"password|token|secret|authorization|cookie"
_SECRET_KEYS = re.compile(_SECRET_NAMES, re.IGNORECASE)
REDACTED = "[redacted]"

_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
# Secrets inside text: `password='x'`, `"access_token": "x"`, `Authorization: Bearer x` (as
# in a dict's repr, a SQL statement's parameters or a header dump). A link's `?token=` is left:
# the console mail backend logs links on purpose (docs/accounts.md: Mail).
_SECRET_IN_TEXT = re.compile(
    rf"(?<![?&\w])(?P<key>['\"]?[\w-]*(?:{_SECRET_NAMES})[\w-]*['\"]?\s*[:=]\s*)"
    rf"(?P<value>{_QUOTED}|(?:bearer\s+)?[^\s,;)}}\]]+)",
    re.IGNORECASE,
)
# What a client sent, as validation errors print it: pydantic's `input_value=...` and FastAPI's
# `'input': '...'`. A password that failed validation is one of these, under any key.
_INPUT_IN_TEXT = re.compile(
    r"(?P<key>input_value=)(?P<value>.*?)(?=, input_type=)"
    rf"|(?P<key2>['\"]input['\"]:\s*)(?P<value2>{_QUOTED})"
)


# Cheap tests first: most values (a path, an id, a timestamp) name no secret and hold no input.
_MAY_HOLD_SECRET = re.compile(rf"{_SECRET_NAMES}|input", re.IGNORECASE)


def _scrub(text: str) -> str:
    if not _MAY_HOLD_SECRET.search(text):
        return text
    text = _SECRET_IN_TEXT.sub(lambda m: f"{m['key']}{REDACTED}", text)
    return _INPUT_IN_TEXT.sub(lambda m: f"{m['key'] or m['key2']}{REDACTED}", text)


@lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    # Events reuse a few key names: each is matched once.
    return _SECRET_KEYS.search(key) is not None


def _names_a_secret(location: Any) -> bool:
    return isinstance(location, list | tuple) and any(_SECRET_KEYS.search(str(part)) for part in location)


def _redacted(value: Any) -> Any:
    # Secrets hide in nested values too: `log.info("login", form={"password": ...})`, or a
    # validation error (`{"loc": ["body", "password"], "input": ...}`).
    if isinstance(value, dict):
        secret_input = _names_a_secret(value.get("loc"))
        return {
            k: REDACTED if _SECRET_KEYS.search(str(k)) or (secret_input and k == "input") else _redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    if isinstance(value, str):
        return _scrub(value)
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Passwords and tokens never reach a log, whoever passed them in."""
    for key, value in event_dict.items():
        if _secret_key(key):
            event_dict[key] = REDACTED
        elif not isinstance(value, str) or _MAY_HOLD_SECRET.search(value):  # most strings: no call
            event_dict[key] = _redacted(value)
    return event_dict


# C0 and C1 controls and DEL (ESC starts a terminal sequence; a newline forges a log line), and
# the Unicode line separators and bidirectional overrides that reorder or split what is shown.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Multi-line by nature: a traceback keeps its line breaks, and only those.
_MULTILINE = frozenset({"exception", "stack"})


def _escape_character(match: re.Match[str]) -> str:
    character = match.group()
    if character in _NAMED:
        return _NAMED[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escaped(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(_escape_character, value) if pattern.search(value) else value
    if isinstance(value, dict):
        return {_escaped(k, _CONTROL): _escaped(v, _CONTROL) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v, _CONTROL) for v in value]
    return value


def escape_control_characters(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Show control characters as escapes (`\\x1b`), in every format: a request path of
    `/%1b[31m` must not recolour, clear or rewrite the terminal that reads the log."""
    for key, value in event_dict.items():
        if isinstance(value, str) and not _CONTROL.search(value):
            continue  # most strings: no call
        event_dict[key] = _escaped(value, _CONTROL_BUT_LINES if key in _MULTILINE else _CONTROL)
    return event_dict


def _trace_ids(settings: Settings) -> list[Processor]:
    # Added by the handler, which every line passes through as it is written, rather than among
    # the shared processors: structlog's loggers keep those they were first used with.
    return [tracing.trace_ids()] if settings.tracing_enabled else []


class AccessLog:
    """The one access event per request. In JSON it is rendered here and written straight to the
    handler's stream, under the handler's lock, through the same redaction and escaping as every
    other event: the stdlib bridge and structlog's chain cost about 0.1 ms a line, a tenth of a
    read. Console lines (development) go through structlog like any other event."""

    def __init__(self, settings: Settings, handler: logging.Handler) -> None:
        self._json = settings.log_json
        self._handler = handler
        self._stream = getattr(handler, "stream", None)
        self._enabled = logging.getLogger("access").isEnabledFor(logging.INFO)
        self._trace_ids = _trace_ids(settings)
        self._logger = structlog.get_logger("access")

    def __call__(self, **fields: Any) -> None:
        if not self._enabled:
            return
        if not self._json or self._stream is None:
            self._logger.info("request", **fields)
            return
        event: EventDict = {
            **structlog.contextvars.get_contextvars(),
            "event": "request",
            **fields,
            "level": "info",
            "logger": "access",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        event = escape_control_characters(None, "info", redact_secrets(None, "info", event))
        for add_trace_ids in self._trace_ids:
            event = add_trace_ids(None, "info", event)  # type: ignore[assignment]  # it returns the dict
        line = json.dumps(event, default=str) + "\n"
        self._handler.acquire()
        try:
            self._stream.write(line)
            self._stream.flush()
        finally:
            self._handler.release()


_access_log: AccessLog | None = None


def access(**fields: Any) -> None:
    """Write the access event of one request (`core.middleware` calls it as each one ends)."""
    if _access_log is not None:
        _access_log(**fields)


def configure_logging(settings: Settings) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # A plain traceback (never rich's, which prints every frame's locals), as text that the
        # next two processors can clean.
        structlog.processors.format_exc_info,
        redact_secrets,
        escape_control_characters,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                *_trace_ids(settings),
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.LOG_LEVEL)
    # The process's one pipeline, as the root logger's handler is.
    global _access_log
    _access_log = AccessLog(settings, handler)
    # uvicorn's own loggers go through the root handler; its access log is replaced by ours.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
