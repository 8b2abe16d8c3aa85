"""Email verification: requesting a link, confirming it, and what the flag changes."""

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from core.config import Settings
from modules.auth.service import BAD_CREDENTIALS
from modules.users.models import User
from modules.users.service import ensure_first_superuser
from modules.users.verification import EXPIRED_LINK, INVALID_LINK, STALE_LINK, USED_LINK, VERIFY_LINK
from tests.auth.lifecycle import RESET_PATH, VERIFY_PATH, Outbox, own_client
from tests.helpers import PASSWORD, make_settings

REQUEST = "/api/v1/auth/verify/request"
CONFIRM = "/api/v1/auth/verify/confirm"
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob@example.com", is_verified=False)


async def _request_link(client: httpx.AsyncClient, outbox: Outbox, email: str = "bob@example.com") -> str:
    r = await client.post(REQUEST, json={"email": email})
    assert r.status_code == 202, r.text
    return outbox.token(email, VERIFY_PATH)


def _verify_token(user: User, settings: Settings, *, lifetime: timedelta, **claims: Any) -> str:
    token, _ = VERIFY_LINK.token(
        subject=user.id,
        secret=settings.secret_key,
        lifetime=lifetime,
        claims={"email": user.email, **claims},
    )
    return token


async def test_registration_leaves_the_address_unverified(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/register", json={"email": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["is_verified"] is False


@pytest.mark.usefixtures("bob")
async def test_request_answers_the_same_for_every_address_and_mails_only_the_unverified(
    client: httpx.AsyncClient, make_user: Callable[..., User], outbox: Outbox
) -> None:
    make_user("carol@example.com")  # verified
    make_user("dave@example.com", is_verified=False, is_active=False)
    answers = [
        await client.post(REQUEST, json={"email": email})
        for email in ("bob@example.com", "nobody@example.com", "carol@example.com", "dave@example.com")
    ]
    assert {(r.status_code, r.text) for r in answers} == {(202, answers[0].text)}
    assert "detail" in answers[0].json()
    assert [mail["to"] for mail in outbox.mails()] == ["bob@example.com"]


async def test_request_with_something_that_is_not_an_email_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(REQUEST, json={"email": "not an address"})
    assert r.status_code == 422


@pytest.mark.usefixtures("bob")
async def test_the_mailed_link_verifies_the_account(client: httpx.AsyncClient, outbox: Outbox) -> None:
    assert outbox.mails() == []
    token = await _request_link(client, outbox)
    [mail] = outbox.mails()
    assert mail["subject"] == "Verify your email address for FastAPI Modulith"
    assert mail["body"].count(f"http://localhost:3000/{VERIFY_PATH}?token=") == 1
    r = await client.post(CONFIRM, json={"token": token})
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["is_verified"]) == ("bob@example.com", True)


@pytest.mark.usefixtures("bob")
async def test_a_link_works_once(client: httpx.AsyncClient, outbox: Outbox) -> None:
    token = await _request_link(client, outbox)
    assert (await client.post(CONFIRM, json={"token": token})).status_code == 200
    r = await client.post(CONFIRM, json={"token": token})
    assert r.status_code == 400
    assert r.json() == {"detail": USED_LINK, "code": "link_used"}


async def test_an_expired_link_is_400(client: httpx.AsyncClient, bob: User, settings: Settings) -> None:
    token = _verify_token(bob, settings, lifetime=timedelta(seconds=-1))
    r = await client.post(CONFIRM, json={"token": token})
    assert r.status_code == 400
    assert r.json() == {"detail": EXPIRED_LINK, "code": "link_expired"}


@pytest.mark.usefixtures("bob")
async def test_a_tampered_link_is_400(
    client: httpx.AsyncClient, make_user: Callable[..., User], outbox: Outbox
) -> None:
    mallory = make_user("mallory@example.com", is_verified=False)
    head, payload, signature = (await _request_link(client, outbox)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(mallory.id)
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{payload}.{signature}"
    r = await client.post(CONFIRM, json={"token": forged})
    assert r.status_code == 400
    assert r.json() == {"detail": INVALID_LINK, "code": "link_invalid"}


async def test_a_link_signed_with_another_key_is_400(client: httpx.AsyncClient, bob: User) -> None:
    other = make_settings("sqlite://", SECRET_KEY="another-secret-key-that-is-long-enough-too")
    r = await client.post(CONFIRM, json={"token": _verify_token(bob, other, lifetime=timedelta(hours=1))})
    assert r.status_code == 400
    assert r.json() == {"detail": INVALID_LINK, "code": "link_invalid"}


async def test_tokens_for_other_purposes_do_not_verify(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[[User], dict[str, str]], outbox: Outbox
) -> None:
    access_token = headers_for(bob)["Authorization"].removeprefix("Bearer ")
    r = await client.post("/api/v1/auth/password-reset/request", json={"email": "bob@example.com"})
    assert r.status_code == 202
    reset_token = outbox.token("bob@example.com", RESET_PATH)
    for token in (access_token, reset_token, "not-a-jwt"):
        r = await client.post(CONFIRM, json={"token": token})
        assert r.status_code == 400, token
        assert r.json() == {"detail": INVALID_LINK, "code": "link_invalid"}


@pytest.mark.usefixtures("bob")
async def test_a_verification_token_is_neither_an_access_nor_a_refresh_token(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert r.status_code == 401


async def test_a_link_for_a_deactivated_account_is_400(
    client: httpx.AsyncClient, bob: User, db: Session, outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    bob.is_active = False
    db.add(bob)
    db.commit()
    r = await client.post(CONFIRM, json={"token": token})
    assert r.status_code == 400
    assert r.json() == {"detail": INVALID_LINK, "code": "link_invalid"}


async def test_changing_an_unverified_accounts_email_verifies_the_new_one_once_followed(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[..., Any], outbox: Outbox
) -> None:
    r = await client.patch(
        "/api/v1/users/me", json={"email": "Bob@New.example.com"}, headers=headers_for(bob)
    )
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["is_verified"]) == ("bob@example.com", False)
    assert [mail["to"] for mail in outbox.mails()] == ["bob@new.example.com"]
    r = await client.post(CONFIRM, json={"token": outbox.token("bob@new.example.com", VERIFY_PATH)})
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["is_verified"]) == ("bob@new.example.com", True)


async def test_keeping_ones_email_keeps_it_verified_and_sends_nothing(
    client: httpx.AsyncClient, make_user: Callable[..., User], headers_for: Callable[..., Any], outbox: Outbox
) -> None:
    carol = make_user("carol@example.com")
    r = await client.patch(
        "/api/v1/users/me", json={"email": "carol@example.com", "full_name": "C"}, headers=headers_for(carol)
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_verified"] is True
    assert outbox.mails() == []


async def test_a_link_sent_to_an_old_address_is_400(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[..., Any], outbox: Outbox
) -> None:
    token = await _request_link(client, outbox)
    r = await client.patch(
        "/api/v1/users/me", json={"email": "bob@new.example.com"}, headers=headers_for(bob)
    )
    assert r.status_code == 200, r.text
    change = outbox.token("bob@new.example.com", VERIFY_PATH)
    assert (await client.post(CONFIRM, json={"token": change})).status_code == 200
    r = await client.post(CONFIRM, json={"token": token})
    assert r.status_code == 400
    assert r.json() == {
        "detail": STALE_LINK,
        "code": "link_used",
    }


async def test_users_cannot_mark_themselves_verified(
    client: httpx.AsyncClient, bob: User, headers_for: Callable[..., Any]
) -> None:
    r = await client.patch("/api/v1/users/me", json={"is_verified": True}, headers=headers_for(bob))
    assert r.status_code == 422


async def test_superusers_create_verified_accounts_unless_they_say_otherwise(
    client: httpx.AsyncClient, superuser_headers: dict[str, str]
) -> None:
    body = {"email": "new@example.com", "password": PASSWORD}
    r = await client.post("/api/v1/users", json=body, headers=superuser_headers)
    assert r.status_code == 201, r.text
    assert r.json()["is_verified"] is True
    body = {"email": "other@example.com", "password": PASSWORD, "is_verified": False}
    r = await client.post("/api/v1/users", json=body, headers=superuser_headers)
    assert r.status_code == 201, r.text
    assert r.json()["is_verified"] is False


async def test_a_superuser_setting_an_address_vouches_for_it_unless_they_say_otherwise(
    client: httpx.AsyncClient, bob: User, superuser_headers: dict[str, str], outbox: Outbox
) -> None:
    url = f"/api/v1/users/{bob.id}"
    r = await client.patch(url, json={"email": "bob@corp.example.com"}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_verified"] is True
    r = await client.patch(
        url, json={"email": "bob@x.example.com", "is_verified": False}, headers=superuser_headers
    )
    assert r.json()["is_verified"] is False
    assert outbox.mails() == []


def test_the_first_superuser_is_verified(db: Session, database_url: str) -> None:
    settings = make_settings(
        database_url, FIRST_SUPERUSER_EMAIL="admin@example.com", FIRST_SUPERUSER_PASSWORD=PASSWORD
    )
    user = ensure_first_superuser(session=db, settings=settings)
    assert user is not None
    assert user.is_verified


@pytest.fixture
def strict_client(app: FastAPI, database_url: str, caplog: pytest.LogCaptureFixture) -> Any:
    return own_client(database_url, caplog, REQUIRE_VERIFIED_EMAIL=True)


@pytest.mark.usefixtures("bob")
async def test_with_required_verification_an_unverified_login_is_403_and_says_why(strict_client: Any) -> None:
    async with strict_client as client:
        r = await client.post(LOGIN, data={"username": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 403
    assert r.json()["detail"].startswith("Email address not verified")
    assert "/api/v1/auth/verify/request" in r.json()["detail"]


@pytest.mark.usefixtures("bob")
async def test_with_required_verification_a_wrong_password_is_still_just_401(strict_client: Any) -> None:
    async with strict_client as client:
        r = await client.post(LOGIN, data={"username": "bob@example.com", "password": "wrong password"})
    assert r.status_code == 401
    assert r.json() == {"detail": BAD_CREDENTIALS, "code": "unauthorized"}


@pytest.mark.usefixtures("bob")
async def test_with_required_verification_a_verified_account_signs_in(
    strict_client: Any, outbox: Outbox
) -> None:
    async with strict_client as client:
        token = await _request_link(client, outbox)
        assert (await client.post(CONFIRM, json={"token": token})).status_code == 200
        r = await client.post(LOGIN, data={"username": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text


@pytest.mark.usefixtures("bob")
async def test_unverified_accounts_sign_in_by_default(client: httpx.AsyncClient) -> None:
    r = await client.post(LOGIN, data={"username": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text


@pytest.mark.usefixtures("app", "bob")
async def test_requests_have_their_own_strict_rate_limit(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with own_client(
        database_url, caplog, RATE_LIMIT_ENABLED=True, RATE_LIMIT_VERIFY="2/hour"
    ) as client:
        statuses = [
            (await client.post(REQUEST, json={"email": "bob@example.com"})).status_code for _ in range(3)
        ]
        assert statuses == [202, 202, 429]
        r = await client.post(REQUEST, json={"email": "someone@example.com"})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        # Other endpoints keep their own budgets.
        r = await client.post(LOGIN, data={"username": "bob@example.com", "password": PASSWORD})
        assert r.status_code == 200, r.text
