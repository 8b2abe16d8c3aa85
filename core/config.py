"""One `Settings`, read from the environment and `.env`, cached for the process."""

import math
import re
import secrets
import unicodedata
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request
from pydantic import EmailStr, Field, IPvAnyNetwork, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The value `.env.example` ships with: fine on a laptop, refused in production.
EXAMPLE_SECRET_KEY = "change-me-to-a-long-random-string-before-deploying"
MIN_SECRET_KEY_BYTES = 32
# A random key of any common alphabet (hex, base64, words) has far more; "aaaa…" or "abab…" has not.
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 10
# Estimated by `secret_key_bits`. RFC 7518 asks HS256 for a 256-bit key: 64 random hex digits or
# `secrets.token_urlsafe(32)` estimate above 190 bits, "0123456789" repeated to any length at 13.
MIN_SECRET_KEY_BITS = 128
# Spaces of every kind, line and paragraph separators, controls and invisible format characters
# (U+200B, a zero-width space, is one): a copying mistake, or a key that looks like another.
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
# Every feature module is mounted under this prefix, at `<API_PREFIX>/<folder name>`.
API_PREFIX = "/api/v1"


class ConfigurationError(SystemExit):
    """Settings that must not be served. A `SystemExit`, so the process stops with one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Refusing to start: {reason}")


# An empty value (`SMTP_USER=`) means unset, as in .env.example. The string under a field is its
# description, for pydantic as for docs/reference/settings.md, which `make modules` draws from it.
_SOURCES = SettingsConfigDict(
    env_file=".env", extra="ignore", env_ignore_empty=True, use_attribute_docstrings=True
)


class ModuleSettings(BaseSettings):
    """A module's own settings: a class in its `settings.py`, named in its manifest, read from the
    same environment and `.env` as `Settings` (`Settings.section` gives the app's instance), and
    listed in `.env.example` under the module's name. The string under each field describes it,
    to pydantic and in docs/reference/settings.md. Core's `Settings` names none of them."""

    model_config = _SOURCES

    def refuse_unsafe_production(self, settings: "Settings") -> None:
        """Stop a production process whose settings would make this module insecure."""


S = TypeVar("S", bound=ModuleSettings)


class Settings(BaseSettings):
    """Core's settings: what every service has, whichever modules it keeps."""

    model_config = _SOURCES
    # What this instance was built from (`Settings(_env_file=None, LOG_LEVEL="DEBUG")`, a module's
    # settings among them), so each module's section reads the same sources, and the values
    # given for its fields.
    _given: dict[str, Any] = PrivateAttr(default_factory=dict)
    _sections: dict[type[ModuleSettings], ModuleSettings] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._given = values

    ENVIRONMENT: Literal["local", "test", "production"] = "local"
    """Where the service runs. `production` refuses to start with a weak `SECRET_KEY`, with mail
    written to the log or with credentials for any origin, and logs JSON."""
    PROJECT_NAME: str = "FastAPI Modulith"
    """The service's name: the title of `/docs`, the sender's name on its mail, and what
    `SERVICE_NAME` and `OTEL_SERVICE_NAME` default to."""
    SERVICE_NAME: str | None = Field(default=None, pattern=r"^[\w.-]{1,100}$")
    """Names what this service keeps on servers it may share with others: its rate-limit counters
    in Redis are kept under it, so two services on one Redis never spend each other's limits.
    Unset: `PROJECT_NAME`, lowercased, with a dash for each run of other characters."""

    SECRET_KEY: SecretStr | None = None
    """Signs the tokens: access and refresh tokens, and the links sent by mail. Production refuses
    it unset, shorter than 32 bytes, with fewer than 10 distinct characters, with whitespace or an
    invisible character, too predictable (under about 128 bits: runs or repeats), or the example
    value of `.env.example`. Make one with
    `python -c "import secrets; print(secrets.token_urlsafe(48))"`. Unset outside production: a
    random key per process, so tokens die on restart."""
    BCRYPT_ROUNDS: int = Field(default=12, ge=4, le=31)
    """bcrypt's work factor: each step doubles the cost of hashing a password (a login, a sign-up).
    Tests lower it to keep the suite fast."""

    DATABASE_URL: str = "sqlite:///./data/app.db"
    """SQLite (its file is created on first run) or PostgreSQL
    (`postgresql+psycopg://app:app@127.0.0.1:5432/app`)."""
    SQLITE_BUSY_TIMEOUT_MS: int = Field(default=5000, ge=0)
    """Milliseconds a statement on SQLite waits for another connection's write to finish before
    it fails."""
    DB_POOL_SIZE: int = Field(default=20, ge=1)
    """The connections each worker process keeps in its pool, reused rather than opened per
    request: enough for the usual concurrency. On PostgreSQL, `DB_POOL_SIZE` + `DB_MAX_OVERFLOW`
    over every worker of every instance must stay below the server's `max_connections`."""
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    """Connections a worker may open beyond `DB_POOL_SIZE` when they are all busy, closed after use."""
    DB_POOL_TIMEOUT_SECONDS: float = Field(default=10, gt=0)
    """How long a request waits for a free pooled connection when the pool is saturated: bounded,
    so requests get a 503 instead of piling up."""
    DB_CONNECT_TIMEOUT_SECONDS: int = Field(default=3, ge=1)
    """How long opening a connection waits for the server to accept it: a database that is down
    or unreachable answers 503 after at most this, instead of requests piling up."""
    DB_POOL_PRE_PING: bool = False
    """Test each pooled connection before use, a round trip per request. Off, a connection that
    died with a restarted database is found dead on its first use: that one request gets a 503,
    and the pool reconnects for the next."""
    # Off, the service recovers by itself all the same: on a disconnect, SQLAlchemy drops every
    # pooled connection as old as the dead one.

    MODULES: list[str] = []
    """The modules this process mounts (a JSON list), with the modules they depend on; empty: all
    of them. A module's own tests run on its slice (`make test module=orders` sets it)."""

    CORS_ORIGINS: list[str] = []
    """The browser origins allowed to call the API, a JSON list (`["https://app.example.com"]`);
    empty: no CORS. Production refuses `*`, patterns with `*` and `null` while
    `CORS_ALLOW_CREDENTIALS` is on."""
    CORS_ALLOW_CREDENTIALS: bool = True
    """Whether those origins' pages may send the browser's credentials (cookies) with requests."""

    RATE_LIMIT_ENABLED: bool = True
    """Off, no rate limit is counted or enforced, core's or any module's."""
    RATE_LIMIT_STORAGE_URL: str = "memory://"
    """Where the counts are kept: `memory://` counts per process; `redis://host:6379/0` shares
    them between workers and instances. When Redis does not answer, requests are served unlimited."""
    RATE_LIMIT_DEFAULT: str = "120/minute"
    """The limit every API route shares, per client address: `N/second`, `minute`, `hour` or
    `day`. A module's routes may have their own limits besides (its `RATE_LIMIT_*` settings)."""
    TRUSTED_PROXIES: list[IPvAnyNetwork] = []
    """Proxies (addresses or networks, a JSON list: `["10.0.0.0/8"]`) whose X-Forwarded-For names
    the client: the rightmost address there that is not a trusted proxy. From anyone else the
    header is ignored, so a client cannot choose the address it is rate-limited as."""

    DOCS_ENABLED: bool = True
    """Serve `/docs`, `/redoc` and `/openapi.json`; off, all three answer 404."""
    # Open by default, production too: the schema is the API's contract, which its clients are
    # generated from, and hiding it hides nothing from an attacker who can call the API.

    MAX_REQUEST_BODY_BYTES: int = Field(default=1024 * 1024, gt=0)
    """A request body over this size is refused with 413."""
    MAX_REQUEST_HEADER_BYTES: int = Field(default=16 * 1024, gt=0)
    """All of a request's header names and values together; over it, 431. uvicorn reads headers
    of any size before the app sees them, so a proxy in front should cap them too."""

    METRICS_ENABLED: bool = True
    """Serve Prometheus metrics at `http://METRICS_HOST:METRICS_PORT/metrics`, on a port of their
    own, never the API's (`python -m core.serve`, for all its workers together)."""
    METRICS_HOST: str = "127.0.0.1"
    """The address the metrics are served on: loopback unless opened on purpose (in a container,
    `0.0.0.0` with the port left unpublished, so only a scraper on the same network reaches it)."""
    METRICS_PORT: int = Field(default=9464, gt=0, lt=65536)
    """The metrics' port: OpenTelemetry's Prometheus exporter's (node_exporter, often beside it,
    has 9100)."""
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    """The OTLP/HTTP collector traces are sent to (`http://otel-collector:4318`); unset: no
    tracing, and nothing of the OpenTelemetry SDK is loaded."""
    OTEL_SERVICE_NAME: str | None = None
    """The service's name in its traces; unset: `PROJECT_NAME`."""

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The lowest level logged."""
    LOG_JSON: bool | None = None
    """Log lines as JSON; unset: JSON in production and readable console lines elsewhere."""

    FRONTEND_URL: str = "http://localhost:3000"
    """Links sent by mail point at pages of the frontend under this URL
    (`FRONTEND_URL/verify-email?token=...`), which post their token to the API."""

    MAIL_BACKEND: Literal["console", "smtp"] = "console"
    """`console` logs each message (its link included) and sends nothing; `smtp` sends it through
    `SMTP_HOST`. Production refuses `console` unless `MAIL_CONSOLE_IN_PRODUCTION` is on."""
    MAIL_CONSOLE_IN_PRODUCTION: bool = False
    """Accept mail in the log in production, where its links' tokens are then left out: a reset
    link in a log is a password for whoever reads it."""
    MAIL_FROM: EmailStr = "noreply@example.com"
    """The sender's address of every message (with `PROJECT_NAME` as its name)."""
    SMTP_HOST: str = "localhost"
    """The SMTP server mail is sent through (`MAIL_BACKEND=smtp`)."""
    SMTP_PORT: int = Field(default=587, gt=0, lt=65536)
    """The SMTP server's port: usually 587 with `starttls`, 465 with `ssl`."""
    SMTP_TLS: Literal["none", "starttls", "ssl"] = "starttls"
    """`starttls` upgrades a plain connection (port 587); `ssl` is TLS from the start (port 465);
    `none` is plain, only for a relay on the same host. Certificates are verified."""
    SMTP_USER: str | None = None
    """With `SMTP_PASSWORD`, log in before sending; unset: send without logging in."""
    SMTP_PASSWORD: SecretStr | None = None
    """The password `SMTP_USER` logs in with."""
    SMTP_TIMEOUT_SECONDS: float = Field(default=10, gt=0)
    """How long each exchange with the SMTP server may take before the attempt fails (and the
    job retries)."""

    JOBS_IN_PROCESS: bool = True
    """Each service process runs the background jobs (`core.jobs`, mail among them) itself. Off
    where `python -m core.jobs worker` processes run them instead."""
    JOBS_POLL_SECONDS: float = Field(default=1, gt=0)
    """How often an idle runner looks for due jobs: retries, and jobs enqueued by other processes
    (a commit in the same process wakes its runner at once)."""
    JOBS_LEASE_SECONDS: float = Field(default=300, gt=0)
    """How long a run may take before another runner may take the job again, as it does when a
    runner was killed mid-run: keep it above the longest run (a mail takes a few SMTP timeouts)."""
    JOBS_MAX_ATTEMPTS: int = Field(default=8, ge=1)
    """Runs before a job that keeps failing is left dead."""
    JOBS_RETRY_SECONDS: float = Field(default=30, gt=0)
    """The wait before a failed job's first retry; each next one waits twice as long (by default
    30 s to 32 min, about an hour in all)."""
    EVENTS_KEEP_DELIVERED_HOURS: float = Field(default=0, ge=0)
    """Event deliveries done (`core.events`) are deleted; above 0 they are kept this long first, to
    see what was delivered when. Dead ones are kept until resubmitted (`python -m core.events`)."""

    def section(self, kind: type[S]) -> S:
        """A module's settings (`kind`), read once from the sources this instance was read from."""
        found = self._sections.get(kind)
        if found is None:
            given = {name: value for name, value in self._given.items() if name in kind.model_fields}
            sources = {name: value for name, value in self._given.items() if name.startswith("_")}
            found = self._sections[kind] = kind(**sources, **given)
        return found  # type: ignore[return-value]

    @cached_property
    def secret_key(self) -> str:
        if self.SECRET_KEY is not None:
            return self.SECRET_KEY.get_secret_value()
        return secrets.token_urlsafe(48)

    @cached_property  # read by every rate-limited request
    def service_name(self) -> str:
        if self.SERVICE_NAME is not None:
            return self.SERVICE_NAME
        return re.sub(r"[^a-z0-9_.]+", "-", self.PROJECT_NAME.lower()).strip("-")[:100] or "service"

    @property
    def tracing_enabled(self) -> bool:
        return self.OTEL_EXPORTER_OTLP_ENDPOINT is not None

    @property
    def log_json(self) -> bool:
        return self.ENVIRONMENT == "production" if self.LOG_JSON is None else self.LOG_JSON

    def refuse_unsafe_production(self) -> None:
        """Stop a production process whose settings would make it insecure."""
        if self.ENVIRONMENT != "production":
            return
        key = self.SECRET_KEY.get_secret_value() if self.SECRET_KEY else ""
        if weakness := secret_key_weakness(key):
            raise ConfigurationError(f"SECRET_KEY {weakness}")
        if self.MAIL_BACKEND == "console" and not self.MAIL_CONSOLE_IN_PRODUCTION:
            # Mail in the log is a password reset for whoever reads the log.
            raise ConfigurationError(
                "MAIL_BACKEND=console would write every message to the log instead of sending it: "
                "set MAIL_BACKEND=smtp and SMTP_HOST, or MAIL_CONSOLE_IN_PRODUCTION=true to accept "
                "mail in the log (without its links' tokens)"
            )
        if self.CORS_ALLOW_CREDENTIALS:
            for origin in self.CORS_ORIGINS:
                # Any page can send `Origin: null` (a sandboxed frame, a file), and `*` is anyone:
                # with credentials, either lets every site act with the user's cookies.
                if origin.strip().lower() == "null" or "*" in origin:
                    raise ConfigurationError(f"CORS_ORIGINS allows {origin!r} together with credentials")


def secret_key_weakness(key: str) -> str | None:
    """Why `key` must not sign production tokens, or None when it may."""
    if not key:
        return "is not set"
    if key.casefold() == EXAMPLE_SECRET_KEY.casefold():
        return "is the example value from .env.example"
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        return f"is shorter than {MIN_SECRET_KEY_BYTES} bytes"
    invisible = next((c for c in key if c.isspace() or unicodedata.category(c) in _INVISIBLE), None)
    if invisible is not None:
        # Most likely a quoting or copying mistake, which another instance would not repeat.
        return f"contains whitespace or an invisible character (U+{ord(invisible):04X})"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_SECRET_KEY_DISTINCT_CHARACTERS} distinct characters"
    bits = secret_key_bits(key)
    if bits < MIN_SECRET_KEY_BITS:
        return (
            f"is too predictable (about {bits:.0f} bits of entropy, {MIN_SECRET_KEY_BITS} needed): "
            'make one with python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    return None


def secret_key_bits(key: str) -> float:
    """A cautious estimate of the key's entropy: each character that a guesser could not have
    predicted counts log2(distinct characters) bits. Predictable are the characters that go on a
    run (`aaa`, `abc`, `2468`) and those ending a three-character sequence seen before in the key
    (`abab…`, `0123456789` repeated), which length and distinct characters alone let through."""
    distinct = len(set(key))
    if distinct < 2:
        return 0.0
    seen: set[str] = set()
    surprising = 2  # the first two start the key; every later one ends a three-character sequence
    for end in range(3, len(key) + 1):
        trigram = key[end - 3 : end]
        first, second, third = map(ord, trigram)
        if third - second != second - first and trigram not in seen:
            surprising += 1
        seen.add(trigram)
    return surprising * math.log2(distinct)


@lru_cache
def get_settings() -> Settings:
    """The process's settings. Tests give an app its own through `create_app(settings)`."""
    return Settings()


async def app_settings(request: Request) -> Settings:
    """The settings of the app serving the request: the ones `create_app` keeps on app.state.

    Read from the app rather than put in `app.dependency_overrides`: with any override there,
    FastAPI rebuilds every dependency of every request. `async`, so no thread is spent on it.
    """
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def section_of(kind: type[S]) -> Callable[[Request], Any]:
    """A dependency giving the serving app's section of `kind`:
    `OrdersSettingsDep = Annotated[OrdersSettings, Depends(section_of(OrdersSettings))]`."""

    async def section(request: Request) -> S:
        settings: Settings = request.app.state.settings
        return settings.section(kind)

    return section
