"""A saturated PostgreSQL pool: a request waits DB_POOL_TIMEOUT_SECONDS at most, then gets a 503."""

import time
import uuid
from datetime import timedelta

import httpx

from core.app import create_app
from core.errors import DATABASE_UNAVAILABLE
from core.security import TokenType, create_token
from tests.helpers import TEST_SECRET_KEY, make_settings

POOL_TIMEOUT = 0.3


async def test_a_request_that_finds_no_free_connection_in_time_gets_503(postgres_url: str) -> None:
    settings = make_settings(
        postgres_url, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT_SECONDS=POOL_TIMEOUT
    )
    app = create_app(settings)
    token, _ = create_token(
        subject=str(uuid.uuid4()),
        token_type=TokenType.ACCESS,
        secret=TEST_SECRET_KEY,
        lifetime=timedelta(minutes=1),
    )
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # With the pool's one connection free, the unknown user is simply refused.
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
        with app.state.engine.connect():
            started = time.perf_counter()
            r = await client.get("/api/v1/users/me", headers=headers)
            waited = time.perf_counter() - started
        assert r.status_code == 503
        assert r.json() == {"detail": DATABASE_UNAVAILABLE, "code": "database_unavailable"}
        assert POOL_TIMEOUT <= waited < POOL_TIMEOUT + 2
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    app.state.engine.dispose()
