"""Behind a proxy: X-Forwarded-For names the client only when the peer is a trusted proxy."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from core.app import create_app
from tests.helpers import make_settings

LIMIT = 2
PROXY = "10.0.0.7"

Make = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[Make]:
    """A client whose requests arrive from `peer`, to an app with a limit of LIMIT per minute."""
    clients: list[httpx.AsyncClient] = []

    def make(peer: str, **settings: Any) -> httpx.AsyncClient:
        app = create_app(
            make_settings(
                f"sqlite:///{tmp_path / 'unused.db'}",
                RATE_LIMIT_ENABLED=True,
                RATE_LIMIT_DEFAULT=f"{LIMIT}/minute",
                **settings,
            )
        )
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def _statuses(client: httpx.AsyncClient, *forwarded_for: str) -> list[int]:
    # Unauthenticated reads: counted by the default limit, answered 401 without the database.
    return [
        (await client.get("/api/v1/users/me", headers={"X-Forwarded-For": value})).status_code
        for value in forwarded_for
    ]


async def test_a_forged_header_from_an_untrusted_peer_is_ignored(make_client: Make) -> None:
    client = make_client("203.0.113.9")
    assert await _statuses(client, "198.51.100.1", "198.51.100.2", "198.51.100.3") == [401, 401, 429]


async def test_a_forged_header_is_ignored_when_the_peer_is_not_among_the_trusted(make_client: Make) -> None:
    client = make_client("203.0.113.9", TRUSTED_PROXIES=[PROXY])
    assert await _statuses(client, "198.51.100.1", "198.51.100.2", "198.51.100.3") == [401, 401, 429]


async def test_a_trusted_proxy_names_the_client(make_client: Make) -> None:
    client = make_client(PROXY, TRUSTED_PROXIES=["10.0.0.0/8"])
    assert await _statuses(client, "198.51.100.1", "198.51.100.1", "198.51.100.1") == [401, 401, 429]
    # Another client behind the same proxy has a budget of its own.
    assert await _statuses(client, "198.51.100.2") == [401]


async def test_only_the_rightmost_untrusted_address_counts(make_client: Make) -> None:
    client = make_client(PROXY, TRUSTED_PROXIES=["10.0.0.0/8"])
    # What a client writes left of the address the proxies saw cannot change its budget;
    # the trusted hops (10.x) right of it are skipped.
    forged = ["1.1.1.1, 198.51.100.1", "2.2.2.2, 198.51.100.1, 10.0.0.3", "junk, 198.51.100.1"]
    assert await _statuses(client, *forged) == [401, 401, 429]


async def test_an_ipv4_proxy_seen_through_a_dual_stack_socket_is_trusted(make_client: Make) -> None:
    client = make_client(f"::ffff:{PROXY}", TRUSTED_PROXIES=["10.0.0.0/8"])
    assert await _statuses(client, "198.51.100.1", "198.51.100.2", "198.51.100.3") == [401, 401, 401]


async def test_without_a_header_the_trusted_proxy_itself_is_counted(make_client: Make) -> None:
    client = make_client(PROXY, TRUSTED_PROXIES=[PROXY])
    statuses = [(await client.get("/api/v1/users/me")).status_code for _ in range(LIMIT + 1)]
    assert statuses == [401, 401, 429]


async def test_when_every_hop_is_trusted_the_leftmost_is_the_client(make_client: Make) -> None:
    client = make_client(PROXY, TRUSTED_PROXIES=["10.0.0.0/8"])
    assert await _statuses(client, "10.0.0.1, 10.0.0.2", "10.0.0.1", "10.0.0.9") == [401, 401, 401]


def test_a_trusted_proxy_that_is_no_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        make_settings(f"sqlite:///{tmp_path / 'unused.db'}", TRUSTED_PROXIES=["proxy.internal"])
