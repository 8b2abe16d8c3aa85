"""Headers clients and browsers rely on: every response is safe from sniffing and leaks no
referrer, token responses are never cached, redirects never lead to a host the client named,
and oversized headers are refused."""

import httpx
import pytest
from fastapi import FastAPI

from core.config import API_PREFIX, Settings
from core.middleware import HEADERS_TOO_LARGE
from modules.users.models import User
from tests.helpers import PASSWORD

LOGIN = f"{API_PREFIX}/auth/login"


@pytest.mark.parametrize("path", ["/health", f"{API_PREFIX}/users/me", "/nowhere", "/docs"])
async def test_every_response_forbids_sniffing_and_referrers(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)

    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert len(r.headers.get_list("x-request-id")) == 1


async def test_a_login_answer_carrying_tokens_is_never_stored(client: httpx.AsyncClient, user: User) -> None:
    r = await client.post(LOGIN, data={"username": user.email, "password": PASSWORD})

    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["pragma"] == "no-cache"


async def test_a_refresh_answer_carrying_tokens_is_never_stored(
    client: httpx.AsyncClient, user: User
) -> None:
    tokens = (await client.post(LOGIN, data={"username": user.email, "password": PASSWORD})).json()

    r = await client.post(f"{API_PREFIX}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"


async def test_answers_without_tokens_may_be_cached_as_usual(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")

    assert "cache-control" not in r.headers


@pytest.mark.parametrize(
    ("path", "location"),
    [
        (f"{API_PREFIX}/users/", f"{API_PREFIX}/users"),
        (f"{API_PREFIX}/users//", f"{API_PREFIX}/users"),
        (f"{API_PREFIX}/users/?limit=5&offset=1", f"{API_PREFIX}/users?limit=5&offset=1"),
        ("/health/ready/", "/health/ready"),
    ],
)
async def test_a_slash_too_many_is_redirected_on_the_same_host_whatever_host_was_named(
    client: httpx.AsyncClient, path: str, location: str
) -> None:
    r = await client.get(path, headers={"Host": "evil.example"})

    assert r.status_code == 307
    assert r.headers["location"] == location


async def test_a_path_no_route_answers_with_or_without_a_slash_is_404(client: httpx.AsyncClient) -> None:
    for path in (f"{API_PREFIX}/nothing/", f"{API_PREFIX}/nothing", "/docs-assets/missing.js/"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == "not_found"


async def test_headers_over_the_limit_are_refused_with_431(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await client.get("/health", headers={"X-Padding": "x" * settings.MAX_REQUEST_HEADER_BYTES})

    assert r.status_code == 431
    assert r.json() == {"detail": HEADERS_TOO_LARGE, "code": "headers_too_large"}
    assert "x-request-id" in r.headers


async def test_headers_within_the_limit_are_served(client: httpx.AsyncClient, settings: Settings) -> None:
    r = await client.get("/health", headers={"X-Padding": "x" * (settings.MAX_REQUEST_HEADER_BYTES // 2)})

    assert r.status_code == 200


def test_the_limit_is_a_setting(app: FastAPI) -> None:
    assert app.state.settings.MAX_REQUEST_HEADER_BYTES == 16 * 1024
