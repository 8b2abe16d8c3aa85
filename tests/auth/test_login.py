"""POST /api/v1/auth/login: the OAuth2 password flow, and what it does with bad credentials."""

import jwt
import pytest
from sqlmodel import select

from core import security
from modules.auth.models import AuthSession
from modules.auth.service import BAD_CREDENTIALS
from modules.auth.settings import AuthSettings
from tests.helpers import PASSWORD, TEST_SECRET_KEY

LOGIN = "/api/v1/auth/login"
FAILED = {"detail": BAD_CREDENTIALS, "code": "unauthorized"}


async def login(client, email, password=PASSWORD):
    return await client.post(LOGIN, data={"username": email, "password": password})


def assert_rejected(r):
    assert r.status_code == 401, r.text
    assert r.json() == FAILED
    assert r.headers["www-authenticate"] == "Bearer"


async def test_login_returns_a_bearer_token_pair(client, user, settings):
    r = await login(client, "alice@example.com")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.section(AuthSettings).ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert body["access_token"] != body["refresh_token"]


async def test_login_tokens_are_signed_for_the_user(client, user):
    body = (await login(client, "alice@example.com")).json()
    access = jwt.decode(body["access_token"], TEST_SECRET_KEY, algorithms=["HS256"])
    refresh = jwt.decode(body["refresh_token"], TEST_SECRET_KEY, algorithms=["HS256"])
    assert (access["sub"], access["type"]) == (str(user.id), "access")
    assert (refresh["sub"], refresh["type"]) == (str(user.id), "refresh")
    assert access["sid"] == refresh["sid"]


async def test_login_access_token_opens_the_users_account(client, user):
    token = (await login(client, "alice@example.com")).json()["access_token"]
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "alice@example.com"


async def test_login_records_one_session_for_the_user(client, db, user):
    r = await login(client, "alice@example.com")
    assert r.status_code == 200, r.text
    [auth_session] = db.exec(select(AuthSession)).all()
    assert auth_session.user_id == user.id
    assert auth_session.revoked_at is None
    # Only a fingerprint of the refresh token is kept.
    assert auth_session.refresh_token_hash != r.json()["refresh_token"]


async def test_each_login_starts_its_own_session(client, db, user):
    await login(client, "alice@example.com")
    await login(client, "alice@example.com")
    assert len(db.exec(select(AuthSession)).all()) == 2


@pytest.mark.parametrize("email", ["ALICE@EXAMPLE.COM", "Alice@Example.com"])
async def test_login_with_the_email_in_another_case_works(client, user, email):
    r = await login(client, email)
    assert r.status_code == 200, r.text


async def test_login_with_an_unknown_email_is_401(client, user):
    assert_rejected(await login(client, "nobody@example.com"))


async def test_login_with_a_wrong_password_is_401(client, user):
    assert_rejected(await login(client, "alice@example.com", "wrong password"))


async def test_login_to_an_inactive_account_is_401(client, make_user):
    make_user("sleepy@example.com", is_active=False)
    assert_rejected(await login(client, "sleepy@example.com"))


async def test_login_failures_cannot_be_told_apart(client, user, make_user):
    make_user("sleepy@example.com", is_active=False)
    answers = [
        await login(client, "nobody@example.com"),
        await login(client, "alice@example.com", "wrong password"),
        await login(client, "sleepy@example.com"),
    ]
    assert {(r.status_code, r.text, r.headers["www-authenticate"]) for r in answers} == {
        (401, '{"detail":"Incorrect email or password","code":"unauthorized"}', "Bearer")
    }


async def test_login_failure_starts_no_session(client, db, user):
    await login(client, "alice@example.com", "wrong password")
    assert db.exec(select(AuthSession)).all() == []


async def test_login_with_a_password_over_72_bytes_is_401(client, user):
    assert_rejected(await login(client, "alice@example.com", "€" * 25))


async def test_login_does_not_cut_a_long_password_to_72_bytes(client, make_user):
    # bcrypt itself reads 72 bytes; a longer password sharing them must not log in.
    password = "x" * 100
    make_user("long@example.com", password=password)
    assert (await login(client, "long@example.com", password)).status_code == 200
    assert_rejected(await login(client, "long@example.com", password + "tail"))


async def test_login_with_an_empty_password_is_422(client, user):
    # A form field sent empty counts as missing.
    r = await client.post(LOGIN, data={"username": "alice@example.com", "password": ""})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "password"]


async def test_login_with_a_nul_in_the_password_is_401(client, user):
    assert_rejected(await login(client, "alice@example.com", "correct\x00horse"))


async def test_login_with_a_nul_in_the_email_is_401(client, user):
    assert_rejected(await login(client, "alice\x00@example.com"))


@pytest.mark.parametrize("missing", ["username", "password"])
async def test_login_without_a_form_field_is_422(client, user, missing):
    form = {"username": "alice@example.com", "password": PASSWORD}
    del form[missing]
    r = await client.post(LOGIN, data=form)
    assert r.status_code == 422, r.text


async def test_login_with_json_instead_of_a_form_is_422(client, user):
    r = await client.post(LOGIN, json={"username": "alice@example.com", "password": PASSWORD})
    assert r.status_code == 422, r.text


def test_verifying_against_no_hash_is_false():
    # An unknown email is checked against a dummy hash, so it costs one bcrypt check too.
    assert security.verify_password(PASSWORD, None, rounds=4) is False


def test_verifying_a_password_over_72_bytes_is_false():
    hashed = security.hash_password("x" * 72, rounds=4)
    assert security.verify_password("x" * 72 + "y", hashed, rounds=4) is False


def test_verifying_a_password_with_a_nul_is_false():
    hashed = security.hash_password(PASSWORD, rounds=4)
    assert security.verify_password("correct\x00horse", hashed, rounds=4) is False


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.com", PASSWORD),
        ("alice@example.com", "wrong password"),
        ("alice@example.com", PASSWORD),
    ],
)
async def test_login_costs_one_bcrypt_check_whether_or_not_the_account_exists(
    client, user, settings, monkeypatch, email, password
):
    context = security._password_context(settings.BCRYPT_ROUNDS)
    calls = []
    real_verify = context.verify

    def counting_verify(*args, **kwargs):
        calls.append(args)
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(context, "verify", counting_verify)
    await login(client, email, password)
    assert len(calls) == 1
