"""Password reset: requesting a link, using it once, and everything that kills it."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from modules.auth.password_reset import EXPIRED_LINK, INVALID_LINK, RESET_LINK, USED_LINK
from modules.users.models import User
from modules.users.service import reset_password
from tests.auth.lifecycle import RESET_PATH, VERIFY_PATH, Outbox, own_client
from tests.helpers import PASSWORD

REQUEST = "/api/v1/auth/password-reset/request"
CONFIRM = "/api/v1/auth/password-reset/confirm"
LOGIN = "/api/v1/auth/login"
NEW_PASSWORD = "a brand new password"
USED = {
    "detail": USED_LINK,
    "code": "link_used",
}
INVALID = {"detail": INVALID_LINK, "code": "link_invalid"}


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob@example.com", is_verified=False)


async def _request_link(client: httpx.AsyncClient, outbox: Outbox, email: str = "bob@example.com") -> str:
    r = await client.post(REQUEST, json={"email": email})
    assert r.status_code == 202, r.text
    return outbox.token(email, RESET_PATH)


async def _login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(LOGIN, data={"username": "bob@example.com", "password": password})


@pytest.mark.usefixtures("bob")
async def test_request_answers_the_same_for_every_address_and_mails_only_active_accounts(
    client: httpx.AsyncClient, make_user: Callable[..., User], outbox: Outbox
) -> None:
    make_user("dave@example.com", is_active=False)
    answers = [
        await client.post(REQUEST, json={"email": email})
        for email in ("bob@example.com", "nobody@example.com", "dave@example.com")
    ]
    assert {(r.status_code, r.text) for r in answers} == {(202, answers[0].text)}
    assert "detail" in answers[0].json()
    assert [mail["to"] for mail in outbox.mails()] == ["bob@example.com"]


@pytest.mark.usefixtures("bob")
async def test_the_mailed_link_sets_a_new_password(client: httpx.AsyncClient, outbox: Outbox) -> None:
    token = await _request_link(client, outbox)
    [mail] = outbox.mails()
    assert mail["subject"] == "Reset your password for FastAPI Modulith"
    assert mail["body"].count(f"http://localhost:3000/{RESET_PATH}?token=") == 1
    r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    assert (await _login(client, NEW_PASSWORD)).status_code == 200
    assert (await _login(client, PASSWORD)).status_code == 401


@pytest.mark.usefixtures("bob")
async def test_following_the_link_proves_the_address(
    client: httpx.AsyncClient, outbox: Outbox, db: Session, bob: User
) -> None:
    token = await _request_link(client, outbox)
    assert (
        await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    ).status_code == 204
    db.refresh(bob)
    assert bob.is_verified


@pytest.mark.usefixtures("bob")
async def test_a_link_works_once(client: httpx.AsyncClient, outbox: Outbox) -> None:
    token = await _request_link(client, outbox)
    assert (
        await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    ).status_code == 204
    r = await client.post(CONFIRM, json={"token": token, "new_password": "yet another password"})
    assert r.status_code == 400
    assert r.json() == USED
    assert (await _login(client, NEW_PASSWORD)).status_code == 200


async def test_a_link_dies_when_the_user_changes_the_password(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[[User], dict[str, str]], outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "changed the usual way"},
        headers=headers_for(bob),
    )
    assert r.status_code == 204, r.text
    r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert r.json() == USED


async def test_a_link_dies_when_a_superuser_sets_the_password(
    client: httpx.AsyncClient, bob: User, superuser_headers: dict[str, str], outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    r = await client.patch(
        f"/api/v1/users/{bob.id}", json={"password": "set by the admin"}, headers=superuser_headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert r.json() == USED


async def test_a_link_dies_when_the_address_changes(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[[User], dict[str, str]], outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    r = await client.patch(
        "/api/v1/users/me", json={"email": "bob@new.example.com"}, headers=headers_for(bob)
    )
    assert r.status_code == 200, r.text
    change = outbox.token("bob@new.example.com", VERIFY_PATH)
    assert (await client.post("/api/v1/auth/verify/confirm", json={"token": change})).status_code == 200
    r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert r.json() == USED


async def test_a_reset_ends_every_session(
    client: httpx.AsyncClient, outbox: Outbox, bob: User, headers_for: Callable[[User], dict[str, str]]
) -> None:
    refresh_tokens = [(await _login(client, PASSWORD)).json()["refresh_token"] for _ in range(2)]
    token = await _request_link(client, outbox)
    assert (
        await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    ).status_code == 204
    for refresh_token in refresh_tokens:
        r = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        assert r.status_code == 401
    r = await client.get("/api/v1/auth/sessions", headers=headers_for(bob))
    assert [s["current"] for s in r.json()] == [True]  # only the session opened just now


@pytest.mark.usefixtures("bob")
async def test_the_new_password_follows_the_registration_rules(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    for new_password in ("short", "x" * 129, "é" * 129, "correct\x00horse"):
        r = await client.post(CONFIRM, json={"token": token, "new_password": new_password})
        assert r.status_code == 422, new_password
    assert (await _login(client, PASSWORD)).status_code == 200


async def test_an_expired_link_is_400(client: httpx.AsyncClient, bob: User, settings: Settings) -> None:
    token, _ = RESET_LINK.token(
        subject=bob.id,
        secret=settings.secret_key,
        lifetime=timedelta(seconds=-1),
        claims={"pwd": "expiry is checked first"},
    )
    r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert r.json() == {
        "detail": EXPIRED_LINK,
        "code": "link_expired",
    }


async def test_a_link_for_a_deactivated_account_is_400(
    client: httpx.AsyncClient, bob: User, db: Session, outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    bob.is_active = False
    db.add(bob)
    db.commit()
    r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert r.json() == INVALID


async def test_tokens_for_other_purposes_do_not_reset(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[[User], dict[str, str]], outbox: Outbox
) -> None:
    tokens = (await _login(client, PASSWORD)).json()
    r = await client.post("/api/v1/auth/verify/request", json={"email": "bob@example.com"})
    assert r.status_code == 202
    verify_token = outbox.token("bob@example.com", VERIFY_PATH)
    for token in (tokens["access_token"], tokens["refresh_token"], verify_token, "not-a-jwt"):
        r = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
        assert r.status_code == 400, token
        assert r.json() == INVALID
    assert (await _login(client, PASSWORD)).status_code == 200


@pytest.mark.usefixtures("bob")
async def test_a_reset_token_is_neither_an_access_nor_a_refresh_token(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert r.status_code == 401


def test_of_two_resets_racing_from_one_password_only_one_wins(
    engine: Engine, bob: User, settings: Settings
) -> None:
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        # Both loaded the account before either changed it, as two racing requests would.
        mine, theirs = first.get(User, bob.id), second.get(User, bob.id)
        assert mine is not None
        assert theirs is not None
        assert reset_password(session=first, user=mine, new_password=NEW_PASSWORD, rounds=4)
        assert not reset_password(session=second, user=theirs, new_password="the loser", rounds=4)


@pytest.mark.usefixtures("app", "bob")
async def test_requests_have_their_own_strict_rate_limit(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    limits: dict[str, Any] = {"RATE_LIMIT_ENABLED": True, "RATE_LIMIT_PASSWORD_RESET": "2/hour"}
    async with own_client(database_url, caplog, **limits) as client:
        statuses = [
            (await client.post(REQUEST, json={"email": "bob@example.com"})).status_code for _ in range(3)
        ]
        assert statuses == [202, 202, 429]
        r = await client.post(REQUEST, json={"email": "someone@example.com"})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        # The verification requests keep a budget of their own.
        r = await client.post("/api/v1/auth/verify/request", json={"email": "bob@example.com"})
        assert r.status_code == 202, r.text
