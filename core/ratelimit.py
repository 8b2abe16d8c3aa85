"""Rate limits as FastAPI dependencies over slowapi's limiter and its storage (memory or Redis).

Each limit is a setting named `RATE_LIMIT_<NAME>`; `rate_limit("login")` applies
`RATE_LIMIT_LOGIN` to a route. Counts are kept per client address and per limit name, so
the default limit is one budget across the whole API.
"""

import math
import time
from functools import lru_cache
from typing import Any

from fastapi import Depends, HTTPException, Request
from limits import RateLimitItem, parse
from slowapi import Limiter

from core.config import Settings, SettingsDep


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=client_address,
        storage_uri=settings.RATE_LIMIT_STORAGE_URL,
        enabled=settings.RATE_LIMIT_ENABLED,
        strategy="fixed-window",
    )


@lru_cache
def _parse(limit: str) -> RateLimitItem:
    return parse(limit)


def rate_limit(name: str) -> Any:
    """A dependency enforcing the limit in setting `RATE_LIMIT_<NAME>`; 429 with Retry-After."""
    setting = f"RATE_LIMIT_{name.upper()}"
    if setting not in Settings.model_fields:
        raise ValueError(f"no setting {setting} for rate limit {name!r}")

    def check(request: Request, settings: SettingsDep) -> None:
        limiter: Limiter = request.app.state.limiter
        if not limiter.enabled:
            return
        item = _parse(getattr(settings, setting))
        key = client_address(request)
        if limiter.limiter.hit(item, name, key):
            return
        reset_at = limiter.limiter.get_window_stats(item, name, key).reset_time
        raise HTTPException(
            status_code=429,
            detail=f"Rate limit exceeded: {item}",
            headers={"Retry-After": str(max(1, math.ceil(reset_at - time.time())))},
        )

    return Depends(check)
