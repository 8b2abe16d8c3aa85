"""Rate limits: 429 with Retry-After, stricter for login, one default budget, shared through Redis."""

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.config import API_PREFIX
from core.ratelimit import rate_limit
from tests.helpers import require_server

# A Redis database these tests may empty; TEST_REDIS_URL moves them (the template tests give
# each generated project its own, so suites running side by side do not share counts).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMITS = {"RATE_LIMIT_ENABLED": True, "RATE_LIMIT_LOGIN": "3/minute", "RATE_LIMIT_DEFAULT": "5/minute"}
ME = f"{API_PREFIX}/users/me"
LOGIN = f"{API_PREFIX}/auth/login"


@pytest.fixture
def limited(
    make_app: Callable[..., FastAPI], connect: Callable[[FastAPI], httpx.AsyncClient]
) -> Callable[..., httpx.AsyncClient]:
    """`limited(**settings)`: a client for an app with small limits and its own tables."""

    def make(**overrides: Any) -> httpx.AsyncClient:
        return connect(make_app(migrated=True, **{**LIMITS, **overrides}))

    return make


async def login(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(LOGIN, data={"username": "nobody@example.com", "password": "wrong password"})


async def test_over_the_default_limit_is_429_json_with_retry_after(
    limited: Callable[..., httpx.AsyncClient],
) -> None:
    client = limited()
    statuses = [(await client.get(ME)).status_code for _ in range(5)]

    response = await client.get(ME)

    assert statuses == [401] * 5
    assert response.status_code == 429
    assert response.json() == {"detail": "Rate limit exceeded: 5 per 1 minute", "code": "rate_limited"}
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "X-Request-ID" in response.headers


async def test_login_limit_is_stricter_than_the_default(limited: Callable[..., httpx.AsyncClient]) -> None:
    client = limited()
    statuses = [(await login(client)).status_code for _ in range(3)]

    refused = await login(client)

    assert statuses == [401] * 3
    assert refused.status_code == 429
    assert refused.json()["detail"] == "Rate limit exceeded: 3 per 1 minute"
    assert int(refused.headers["Retry-After"]) >= 1
    # The rest of the API still has budget left under the default limit.
    assert (await client.get(ME)).status_code == 401


async def test_default_limit_is_one_budget_across_the_api(limited: Callable[..., httpx.AsyncClient]) -> None:
    client = limited()
    for path in (ME, f"{API_PREFIX}/users", ME, f"{API_PREFIX}/users/x", f"{API_PREFIX}/users"):
        assert (await client.get(path)).status_code != 429

    assert (await client.get(ME)).status_code == 429
    assert (await client.patch(ME, json={"full_name": "x"})).status_code == 429
    assert (await client.post(f"{API_PREFIX}/auth/logout")).status_code == 429


async def test_login_also_spends_the_default_budget(limited: Callable[..., httpx.AsyncClient]) -> None:
    client = limited(RATE_LIMIT_LOGIN="10/minute")
    for _ in range(5):
        assert (await login(client)).status_code == 401

    assert (await login(client)).status_code == 429


async def test_health_is_not_limited(limited: Callable[..., httpx.AsyncClient]) -> None:
    client = limited()

    statuses = {(await client.get(path)).status_code for path in ["/health", "/health/ready"] * 6}

    assert statuses == {200}
    assert (await client.get(ME)).status_code == 401


async def test_limits_are_off_when_disabled(limited: Callable[..., httpx.AsyncClient]) -> None:
    client = limited(RATE_LIMIT_ENABLED=False)

    statuses = {(await client.get(ME)).status_code for _ in range(8)}

    assert statuses == {401}


async def test_each_app_counts_on_its_own_in_memory(limited: Callable[..., httpx.AsyncClient]) -> None:
    first, second = limited(), limited()
    for _ in range(5):
        await first.get(ME)

    assert (await first.get(ME)).status_code == 429
    assert (await second.get(ME)).status_code == 401


def test_an_unknown_limit_name_is_refused() -> None:
    with pytest.raises(ValueError, match="RATE_LIMIT_NOPE"):
        rate_limit("nope")


# --- Redis ---


@pytest.fixture
def redis_db() -> Iterator[Any]:
    """The Redis database of REDIS_URL (15 unless TEST_REDIS_URL), emptied before and after the test."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        require_server(f"Redis at {REDIS_URL} does not answer")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


async def test_counts_live_in_redis(limited: Callable[..., httpx.AsyncClient], redis_db: Any) -> None:
    client = limited(RATE_LIMIT_STORAGE_URL=REDIS_URL)

    await client.get(ME)

    assert redis_db.dbsize() >= 1
    assert any(b"default" in key for key in redis_db.scan_iter())


async def test_apps_sharing_redis_share_the_count(
    limited: Callable[..., httpx.AsyncClient], redis_db: Any
) -> None:
    first, second = limited(RATE_LIMIT_STORAGE_URL=REDIS_URL), limited(RATE_LIMIT_STORAGE_URL=REDIS_URL)
    for client in (first, second, first, second, first):
        assert (await client.get(ME)).status_code == 401

    response = await second.get(ME)

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_login_limit_is_shared_through_redis(
    limited: Callable[..., httpx.AsyncClient], redis_db: Any
) -> None:
    first, second = limited(RATE_LIMIT_STORAGE_URL=REDIS_URL), limited(RATE_LIMIT_STORAGE_URL=REDIS_URL)
    for client in (first, second, first):
        assert (await login(client)).status_code == 401

    assert (await login(second)).status_code == 429


async def test_counts_are_kept_under_the_service_name(
    limited: Callable[..., httpx.AsyncClient], redis_db: Any
) -> None:
    client = limited(RATE_LIMIT_STORAGE_URL=REDIS_URL, SERVICE_NAME="orders-api")

    await client.get(ME)

    keys = [key.decode() for key in redis_db.scan_iter()]
    assert keys
    assert all("orders-api" in key for key in keys)


async def test_services_sharing_redis_under_other_names_never_share_a_count(
    limited: Callable[..., httpx.AsyncClient], redis_db: Any
) -> None:
    orders = limited(RATE_LIMIT_STORAGE_URL=REDIS_URL, SERVICE_NAME="orders-api")
    billing = limited(RATE_LIMIT_STORAGE_URL=REDIS_URL, SERVICE_NAME="billing-api")
    for _ in range(3):
        assert (await login(orders)).status_code == 401
    assert (await login(orders)).status_code == 429

    statuses = [(await login(billing)).status_code for _ in range(3)]

    assert statuses == [401] * 3
