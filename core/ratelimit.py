"""Rate limits as FastAPI dependencies over slowapi's limiter and its storage (memory or Redis).

Each limit is a setting named `RATE_LIMIT_<NAME>`, core's (`rate_limit("default")`) or a
module's: `rate_limit("sign_up", OrdersSettings)` applies that section's `RATE_LIMIT_SIGN_UP`
to a route (`core.config.ModuleSettings`). Counts are kept per client address and per limit name, so
the default limit is one budget across the whole API, and under the service's name (SERVICE_NAME), so
services sharing one Redis never share a count. A budget that belongs to something else than an
address (an account, a team) is spent with `spend(request, name, key=...)`.

When the storage (Redis) does not answer, requests are served unlimited: an outage of the
counter must not take the API down with it. One warning is logged when the outage starts and
one line when counting resumes.

In memory (`memory://`, one process), counts are kept by `MemoryWindows` rather than `limits`'
memory storage, which starts a timer thread to expire counts whenever none is running: about
0.1 ms each time, a few times a second under load.
"""

import ipaddress
import math
import threading
import time
import weakref
from functools import lru_cache
from typing import Any

import structlog
from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from slowapi import Limiter
from starlette.concurrency import run_in_threadpool

from core import metrics
from core.config import ModuleSettings, Settings
from core.errors import RateLimitedError, raises

log = structlog.get_logger(__name__)

# Seconds to wait on the limit storage before serving the request uncounted.
STORAGE_TIMEOUT_SECONDS = 0.5


def _is_trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_address(request: Request) -> str:
    """The address a request is counted against.

    The peer's own address, unless the peer is a trusted proxy: then `X-Forwarded-For` is read
    from the right (each proxy appends the address it saw) and the first address that is not a
    trusted proxy is the client. Anything left of it could have been written by the client.
    """
    peer = request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings
    if not _is_trusted(peer, settings):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _is_trusted(hop, settings):
            return hop
    return hops[0] if hops else peer


def _storage_options(url: str) -> dict[str, Any]:
    # StorageError for every backend's failures; Redis gets timeouts instead of waiting forever.
    options: dict[str, Any] = {"wrap_exceptions": True}
    if url.startswith(("redis://", "rediss://", "redis+unix://")):
        timeout = STORAGE_TIMEOUT_SECONDS
        options |= {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return options


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=client_address,
        storage_uri=settings.RATE_LIMIT_STORAGE_URL,
        storage_options=_storage_options(settings.RATE_LIMIT_STORAGE_URL),
        enabled=settings.RATE_LIMIT_ENABLED,
        strategy="fixed-window",
    )


class _StorageHealth:
    """Remembers whether the storage is down, so an outage is logged once, not per request."""

    def __init__(self) -> None:
        self._down = False
        self._lock = threading.Lock()

    def failed(self, exc: Exception) -> None:
        with self._lock:
            first, self._down = not self._down, True
        if first:
            log.warning("rate_limit_storage_unavailable", error=str(exc), action="serving without limits")

    def answered(self) -> None:
        if not self._down:
            return
        with self._lock:
            recovered, self._down = self._down, False
        if recovered:
            log.info("rate_limit_storage_recovered")


class MemoryWindows:
    """Fixed windows counted in a dict: each (limit, identifiers) keeps when its window ends and
    its count, and a window that has ended starts again at its first hit. Ended windows are
    dropped at most once a minute, on a hit, so memory follows the clients of the last minute."""

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self._windows: dict[tuple[object, ...], list[float]] = {}  # key -> [window's end, count]
        self._lock = threading.Lock()
        self._swept_at = time.time()

    def hit(self, item: RateLimitItem, *identifiers: str) -> float | None:
        """Count one request; None while within the limit, else when the window ends."""
        period = item.get_expiry()
        now = time.time()
        ends = (now // period + 1) * period
        key = (item.amount, period, *identifiers)
        with self._lock:
            counted = self._windows.get(key)
            if counted is None or counted[0] != ends:
                counted = self._windows[key] = [ends, 0]
            counted[1] += 1
            over = counted[1] > item.amount
            if now - self._swept_at > self.SWEEP_SECONDS:
                self._swept_at = now
                for stale in [key for key, (ended, _) in self._windows.items() if ended <= now]:
                    del self._windows[stale]
        return ends if over else None


# One per limiter (so per app), without widening slowapi's class.
_health: "weakref.WeakKeyDictionary[Limiter, _StorageHealth]" = weakref.WeakKeyDictionary()
_memory: "weakref.WeakKeyDictionary[Limiter, MemoryWindows]" = weakref.WeakKeyDictionary()


def _storage_health(limiter: Limiter) -> _StorageHealth:
    return _health.setdefault(limiter, _StorageHealth())


@lru_cache
def _parse(limit: str) -> RateLimitItem:
    return parse(limit)


def _count(limiter: Limiter, item: RateLimitItem, settings: Settings, name: str, key: str) -> float | None:
    """Count one request; None if it is allowed (or cannot be counted), else when the window resets."""
    identifiers = (settings.service_name, name, key)
    if settings.RATE_LIMIT_STORAGE_URL.startswith("memory://"):
        return _memory.setdefault(limiter, MemoryWindows()).hit(item, *identifiers)
    health = _storage_health(limiter)
    try:
        allowed = limiter.limiter.hit(item, *identifiers)
        reset_at = None if allowed else limiter.limiter.get_window_stats(item, *identifiers).reset_time
    except StorageError as exc:
        health.failed(exc)
        metrics.rate_limit_storage_failed()
        return None
    health.answered()
    return reset_at


def _setting(name: str, section: type[ModuleSettings] | None) -> str:
    setting = f"RATE_LIMIT_{name.upper()}"
    if setting not in (section or Settings).model_fields:
        where = f" in {section.__name__}" if section else ""
        raise ValueError(f"no setting {setting}{where} for rate limit {name!r}")
    return setting


def _limit(settings: Settings, setting: str, section: type[ModuleSettings] | None) -> RateLimitItem:
    """The limit in `setting`, read from core's settings or from the module's section."""
    return _parse(getattr(settings if section is None else settings.section(section), setting))


def _refuse(name: str, item: RateLimitItem, reset_at: float | None) -> None:
    """429 with Retry-After once the limit is spent (`reset_at` is when it refills)."""
    if reset_at is None:
        return
    metrics.rate_limit_refused(name)
    raise RateLimitedError(
        f"Rate limit exceeded: {item}", retry_after=max(1, math.ceil(reset_at - time.time()))
    )


def _budget(
    request: Request, name: str, section: type[ModuleSettings] | None
) -> tuple[Limiter, Settings, RateLimitItem] | None:
    """The app's limiter, settings and the limit `name` names; None while limits are off."""
    setting = _setting(name, section)
    limiter: Limiter = request.app.state.limiter
    if not limiter.enabled:
        return None
    settings: Settings = request.app.state.settings
    return limiter, settings, _limit(settings, setting, section)


def rate_limit(name: str, section: type[ModuleSettings] | None = None) -> Any:
    """A dependency enforcing the limit in setting `RATE_LIMIT_<NAME>` (of the module's `section`,
    else core's); 429 with Retry-After."""
    _setting(name, section)  # an unknown name fails when the route is defined, not when it is called

    @raises(RateLimitedError)
    async def check(request: Request) -> None:
        await spend(request, name, section=section)

    return Depends(check)


async def spend(
    request: Request, name: str, *, key: str | None = None, section: type[ModuleSettings] | None = None
) -> None:
    """Count the request against `RATE_LIMIT_<NAME>`; 429 with Retry-After once it is spent.

    Counted per client address, or under `key`: whatever the budget belongs to (an account's
    id, a team's), for a limit that must hold wherever its requests come from. The
    limit's name keeps one budget's keys apart from another's. Called from a dependency that
    knows the key, marked `raises(RateLimitedError)`. `section`: as for `rate_limit`."""
    budget = _budget(request, name, section)
    if budget is None:
        return
    limiter, settings, item = budget
    counted_as = key or client_address(request)
    # Counting in this process's memory is quicker than a trip to the threadpool; a storage
    # server (Redis) is network I/O and stays off the event loop.
    if settings.RATE_LIMIT_STORAGE_URL.startswith("memory://"):
        reset_at = _count(limiter, item, settings, name, counted_as)
    else:
        reset_at = await run_in_threadpool(_count, limiter, item, settings, name, counted_as)
    _refuse(name, item, reset_at)


def enforce_rate_limit(request: Request, name: str, *, section: type[ModuleSettings] | None = None) -> None:
    """Count the request against `RATE_LIMIT_<NAME>` now; 429 once it is spent. For a sync route
    that limits only some requests (an email change, not every profile edit): it blocks on the
    storage, so it belongs in the threadpool, never on the event loop. `section`: as for
    `rate_limit`."""
    budget = _budget(request, name, section)
    if budget is None:
        return
    limiter, settings, item = budget
    _refuse(name, item, _count(limiter, item, settings, name, client_address(request)))
