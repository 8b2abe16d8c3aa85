"""POST /api/v1/auth/refresh and /auth/logout: rotation, reuse detection, and what ends a session."""

import base64
import hashlib
import json
from datetime import timedelta

import jwt
import pytest
from sqlmodel import select

from core.db import utcnow
from core.security import TokenType, create_token
from modules.auth.models import AuthSession
from modules.auth.service import INVALID_REFRESH_TOKEN
from modules.auth.settings import AuthSettings
from tests.helpers import PASSWORD, TEST_SECRET_KEY

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
INVALID = {"detail": INVALID_REFRESH_TOKEN, "code": "unauthorized"}


async def login(client, email="alice@example.com", password=PASSWORD):
    r = await client.post("/api/v1/auth/login", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


async def refresh(client, refresh_token):
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_refused(r):
    assert r.status_code == 401, r.text
    assert r.json() == INVALID
    assert r.headers["www-authenticate"] == "Bearer"


def sessions(db):
    db.expire_all()
    return db.exec(select(AuthSession)).all()


def unverified(token):
    return jwt.decode(token, options={"verify_signature": False})


# Refresh


async def test_refresh_returns_a_new_token_pair(client, user, settings):
    tokens = await login(client)
    r = await refresh(client, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    new = r.json()
    assert set(new) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert new["token_type"] == "bearer"
    assert new["expires_in"] == settings.section(AuthSettings).ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["access_token"] != tokens["access_token"]


async def test_refreshed_access_token_works(client, user):
    tokens = await login(client)
    new = (await refresh(client, tokens["refresh_token"])).json()
    r = await client.get("/api/v1/users/me", headers=bearer(new["access_token"]))
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "alice@example.com"


async def test_refreshed_token_can_be_refreshed_again(client, user):
    token = (await login(client))["refresh_token"]
    for _ in range(3):
        r = await refresh(client, token)
        assert r.status_code == 200, r.text
        token = r.json()["refresh_token"]


async def test_refresh_keeps_the_same_session(client, db, user):
    tokens = await login(client)
    new = (await refresh(client, tokens["refresh_token"])).json()
    assert unverified(new["refresh_token"])["sid"] == unverified(tokens["refresh_token"])["sid"]
    assert len(sessions(db)) == 1


async def test_a_used_refresh_token_is_401(client, user):
    tokens = await login(client)
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_reusing_a_refresh_token_revokes_the_newer_one_too(client, user):
    tokens = await login(client)
    newer = (await refresh(client, tokens["refresh_token"])).json()["refresh_token"]
    assert_refused(await refresh(client, tokens["refresh_token"]))
    assert_refused(await refresh(client, newer))


async def test_reusing_a_refresh_token_marks_the_session_revoked(client, db, user):
    tokens = await login(client)
    await refresh(client, tokens["refresh_token"])
    await refresh(client, tokens["refresh_token"])
    [auth_session] = sessions(db)
    assert auth_session.revoked_at is not None


async def test_reusing_a_refresh_token_leaves_other_sessions_alone(client, user):
    stolen = await login(client)
    other = await login(client)
    await refresh(client, stolen["refresh_token"])
    assert_refused(await refresh(client, stolen["refresh_token"]))
    assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_an_access_token_as_refresh_token_is_401(client, user):
    tokens = await login(client)
    assert_refused(await refresh(client, tokens["access_token"]))


async def test_an_access_token_as_refresh_token_does_not_revoke_the_session(client, user):
    tokens = await login(client)
    await refresh(client, tokens["access_token"])
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
async def test_a_garbage_refresh_token_is_401(client, token):
    assert_refused(await refresh(client, token))


async def test_a_refresh_token_signed_with_another_key_is_401(client, user):
    claims = unverified((await login(client))["refresh_token"])
    forged = jwt.encode(claims, "another-secret-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert_refused(await refresh(client, forged))


async def test_a_tampered_refresh_token_is_401(client, user, superuser):
    header, payload, signature = (await login(client))["refresh_token"].split(".")
    claims = unverified(f"{header}.{payload}.{signature}")
    claims["sub"] = str(superuser.id)
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_refused(await refresh(client, f"{header}.{edited}.{signature}"))


async def test_an_expired_refresh_token_is_401(client, user):
    # Same user and session as a live token; only the expiry differs.
    sid = unverified((await login(client))["refresh_token"])["sid"]
    expired, _ = create_token(
        subject=str(user.id),
        token_type=TokenType.REFRESH,
        secret=TEST_SECRET_KEY,
        lifetime=timedelta(seconds=-1),
        claims={"sid": sid},
    )
    assert_refused(await refresh(client, expired))


async def test_a_refresh_token_of_an_expired_session_is_401(client, db, user):
    tokens = await login(client)
    [auth_session] = sessions(db)
    auth_session.expires_at = utcnow() - timedelta(seconds=1)
    db.add(auth_session)
    db.commit()
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_a_refresh_token_of_an_unknown_session_is_401(client, db, user):
    tokens = await login(client)
    for auth_session in sessions(db):
        db.delete(auth_session)
    db.commit()
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_a_refresh_token_naming_another_user_than_its_session_is_401(client, db, user, superuser):
    sid = unverified((await login(client))["refresh_token"])["sid"]
    forged, _ = create_token(
        subject=str(superuser.id),
        token_type=TokenType.REFRESH,
        secret=TEST_SECRET_KEY,
        lifetime=timedelta(days=1),
        claims={"sid": sid},
    )
    # Make the session expect exactly this token (it keeps a SHA-256 of it), so that only the
    # mismatch between the token's user and the session's user can refuse it.
    [auth_session] = sessions(db)
    auth_session.refresh_token_hash = hashlib.sha256(forged.encode()).hexdigest()
    db.add(auth_session)
    db.commit()
    assert_refused(await refresh(client, forged))


async def test_refresh_without_the_token_is_422(client):
    r = await client.post(REFRESH, json={})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "refresh_token"]


async def test_refresh_with_an_unknown_field_is_422(client, user):
    tokens = await login(client)
    r = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"], "user_id": str(user.id)})
    assert r.status_code == 422, r.text


async def test_refresh_after_a_password_change_is_401(client, user):
    tokens = await login(client)
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
        headers=bearer(tokens["access_token"]),
    )
    assert r.status_code == 204, r.text
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_refresh_of_a_session_started_after_a_password_change_works(client, user):
    tokens = await login(client)
    await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
        headers=bearer(tokens["access_token"]),
    )
    fresh = await login(client, password="a brand new password")
    assert (await refresh(client, fresh["refresh_token"])).status_code == 200


async def test_refresh_after_a_superuser_sets_the_password_is_401(client, user, superuser_headers):
    tokens = await login(client)
    r = await client.patch(
        f"/api/v1/users/{user.id}", json={"password": "set by the admin"}, headers=superuser_headers
    )
    assert r.status_code == 200, r.text
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_refresh_after_deactivation_is_401(client, user, superuser_headers):
    tokens = await login(client)
    r = await client.patch(f"/api/v1/users/{user.id}", json={"is_active": False}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_refresh_after_deactivation_stays_401_after_reactivation(client, user, superuser_headers):
    # A refused refresh revokes the session: reactivating the account does not revive it.
    tokens = await login(client)
    await client.patch(f"/api/v1/users/{user.id}", json={"is_active": False}, headers=superuser_headers)
    await refresh(client, tokens["refresh_token"])
    await client.patch(f"/api/v1/users/{user.id}", json={"is_active": True}, headers=superuser_headers)
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_refresh_after_the_account_is_deleted_is_401(client, user, superuser_headers):
    tokens = await login(client)
    r = await client.delete(f"/api/v1/users/{user.id}", headers=superuser_headers)
    assert r.status_code == 204, r.text
    assert_refused(await refresh(client, tokens["refresh_token"]))


# Logout


async def test_logout_is_204_with_no_body(client, user):
    tokens = await login(client)
    r = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 204, r.text
    assert r.content == b""


async def test_a_logged_out_refresh_token_is_401(client, user):
    tokens = await login(client)
    await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert_refused(await refresh(client, tokens["refresh_token"]))


async def test_logout_marks_the_session_revoked(client, db, user):
    tokens = await login(client)
    await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    [auth_session] = sessions(db)
    assert auth_session.revoked_at is not None


async def test_logout_twice_is_204_both_times(client, user):
    tokens = await login(client)
    first = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    second = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert (first.status_code, second.status_code) == (204, 204)


async def test_logout_leaves_other_sessions_alone(client, user):
    ended = await login(client)
    other = await login(client)
    await client.post(LOGOUT, json={"refresh_token": ended["refresh_token"]})
    assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_logout_with_an_access_token_is_401(client, user):
    tokens = await login(client)
    r = await client.post(LOGOUT, json={"refresh_token": tokens["access_token"]})
    assert_refused(r)
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_logout_with_a_garbage_token_is_401(client):
    assert_refused(await client.post(LOGOUT, json={"refresh_token": "garbage"}))


async def test_logout_without_the_token_is_422(client):
    r = await client.post(LOGOUT, json={})
    assert r.status_code == 422, r.text
