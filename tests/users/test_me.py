"""/api/v1/users/me: the caller's own account."""

import pytest
from sqlmodel import select

from modules.auth.models import AuthSession
from modules.users.models import User
from modules.users.service import SELF_DELETION, WRONG_PASSWORD
from tests.helpers import PASSWORD, USER_READ_FIELDS

ME = "/api/v1/users/me"
PASSWORD_CHANGE = "/api/v1/users/me/password"
NEW_PASSWORD = "a brand new password"


def reload(db, user_id):
    db.expire_all()
    return db.exec(select(User).where(User.id == user_id)).first()


async def login(client, email, password=PASSWORD):
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


# GET /users/me


async def test_read_me_returns_the_callers_account(client, user, user_headers):
    r = await client.get(ME, headers=user_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == USER_READ_FIELDS
    assert body["id"] == str(user.id)
    assert body["email"] == "alice@example.com"
    assert body["full_name"] == "Alice"
    assert (body["is_active"], body["is_superuser"]) == (True, False)


async def test_read_me_without_a_token_is_401(client, user):
    r = await client.get(ME)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"


# PATCH /users/me


async def test_update_me_changes_the_full_name(client, db, user, user_headers):
    r = await client.patch(ME, json={"full_name": "Alice Liddell"}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "Alice Liddell"
    assert reload(db, user.id).full_name == "Alice Liddell"


async def test_update_me_can_clear_the_full_name(client, db, user, user_headers):
    r = await client.patch(ME, json={"full_name": None}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] is None
    assert reload(db, user.id).full_name is None


async def test_update_me_leaves_unsent_fields_alone(client, db, user, user_headers):
    r = await client.patch(ME, json={"email": "alice2@example.com"}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert reload(db, user.id).full_name == "Alice"


async def test_update_me_with_a_null_email_keeps_the_email(client, db, user, user_headers):
    r = await client.patch(ME, json={"email": None}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert reload(db, user.id).email == "alice@example.com"


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@example.com"])
async def test_update_me_to_my_own_email_is_fine(client, db, user, user_headers, email):
    r = await client.patch(ME, json={"email": email, "full_name": "Alice L."}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "alice@example.com"
    assert reload(db, user.id).full_name == "Alice L."


async def test_update_me_with_an_invalid_email_is_422(client, db, user, user_headers):
    r = await client.patch(ME, json={"email": "not-an-email"}, headers=user_headers)
    assert r.status_code == 422, r.text
    assert reload(db, user.id).email == "alice@example.com"


async def test_update_me_with_a_full_name_over_255_characters_is_422(client, user, user_headers):
    r = await client.patch(ME, json={"full_name": "x" * 256}, headers=user_headers)
    assert r.status_code == 422, r.text


async def test_update_me_with_a_nul_in_the_full_name_is_422(client, db, user, user_headers):
    r = await client.patch(ME, json={"full_name": "Ali\u0000ce"}, headers=user_headers)
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"][0]["msg"]
    assert reload(db, user.id).full_name == "Alice"


@pytest.mark.parametrize(
    ("field", "value"),
    [("is_superuser", True), ("is_active", False), ("password", "a brand new password"), ("id", None)],
)
async def test_update_me_with_a_privileged_field_is_422_and_changes_nothing(
    client, db, user, user_headers, field, value
):
    r = await client.patch(ME, json={"full_name": "Mallory", field: value}, headers=user_headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["type"] == "extra_forbidden"
    stored = reload(db, user.id)
    assert (stored.full_name, stored.is_superuser, stored.is_active) == ("Alice", False, True)


async def test_update_me_without_a_token_is_401(client, user):
    r = await client.patch(ME, json={"full_name": "Nobody"})
    assert r.status_code == 401, r.text


# POST /users/me/password


async def test_change_password_is_204(client, user, user_headers):
    r = await client.post(
        PASSWORD_CHANGE,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user_headers,
    )
    assert r.status_code == 204, r.text
    assert r.content == b""


async def test_after_a_password_change_the_old_password_no_longer_logs_in(client, user, user_headers):
    await client.post(
        PASSWORD_CHANGE,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user_headers,
    )
    assert (await login(client, "alice@example.com", PASSWORD)).status_code == 401


async def test_after_a_password_change_the_new_password_logs_in(client, user, user_headers):
    await client.post(
        PASSWORD_CHANGE,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user_headers,
    )
    assert (await login(client, "alice@example.com", NEW_PASSWORD)).status_code == 200


async def test_change_password_with_a_wrong_current_password_is_400(client, user, user_headers):
    r = await client.post(
        PASSWORD_CHANGE,
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=user_headers,
    )
    assert r.status_code == 400, r.text
    assert r.json() == {"detail": WRONG_PASSWORD, "code": "wrong_password"}
    assert (await login(client, "alice@example.com", PASSWORD)).status_code == 200
    assert (await login(client, "alice@example.com", NEW_PASSWORD)).status_code == 401


async def test_change_password_with_a_nul_in_the_current_password_is_422(client, user, user_headers):
    # No password can contain NUL, and request bodies refuse it in any text field.
    r = await client.post(
        PASSWORD_CHANGE,
        json={"current_password": "correct\u0000horse", "new_password": NEW_PASSWORD},
        headers=user_headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "current_password"]


async def test_change_password_with_a_too_short_new_password_is_422(client, user, user_headers):
    r = await client.post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": "short"}, headers=user_headers
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "new_password"]
    assert "at least 8 characters" in error["msg"]
    assert (await login(client, "alice@example.com", PASSWORD)).status_code == 200


async def test_change_password_with_a_new_password_over_128_characters_is_422(client, user, user_headers):
    r = await client.post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": "€" * 129}, headers=user_headers
    )
    assert r.status_code == 422, r.text
    assert "at most 128 characters" in r.json()["detail"][0]["msg"]


async def test_change_password_with_a_nul_in_the_new_password_is_422(client, user, user_headers):
    r = await client.post(
        PASSWORD_CHANGE,
        json={"current_password": PASSWORD, "new_password": "new\u0000password"},
        headers=user_headers,
    )
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize("missing", ["current_password", "new_password"])
async def test_change_password_without_a_field_is_422(client, user, user_headers, missing):
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    del body[missing]
    r = await client.post(PASSWORD_CHANGE, json=body, headers=user_headers)
    assert r.status_code == 422, r.text


async def test_change_password_without_a_token_is_401(client, user):
    r = await client.post(PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 401, r.text


# DELETE /users/me


async def test_delete_me_is_204_and_removes_the_account(client, db, user, user_headers):
    r = await client.delete(ME, headers=user_headers)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert reload(db, user.id) is None


async def test_delete_me_removes_every_one_of_my_sessions(client, db, user, user_headers):
    for _ in range(2):
        assert (await login(client, "alice@example.com")).status_code == 200
    assert len(db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all()) == 3
    r = await client.delete(ME, headers=user_headers)
    assert r.status_code == 204, r.text
    db.expire_all()
    assert db.exec(select(AuthSession)).all() == []


async def test_delete_me_removes_my_sessions(client, db, make_user, headers_for, user, user_headers):
    bob = make_user("bob@example.com")
    headers_for(bob)
    await login(client, "alice@example.com")
    await client.delete(ME, headers=user_headers)
    db.expire_all()
    assert [s.user_id for s in db.exec(select(AuthSession)).all()] == [bob.id]


async def test_after_delete_me_my_token_is_401(client, user, user_headers):
    await client.delete(ME, headers=user_headers)
    r = await client.get(ME, headers=user_headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"


async def test_after_delete_me_my_refresh_token_is_401(client, user, user_headers):
    tokens = (await login(client, "alice@example.com")).json()
    await client.delete(ME, headers=user_headers)
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401, r.text


async def test_after_delete_me_the_email_can_register_again(client, user, user_headers):
    await client.delete(ME, headers=user_headers)
    r = await client.post("/api/v1/auth/register", json={"email": "alice@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text


async def test_a_superuser_cannot_delete_themselves_through_me(client, db, superuser, superuser_headers):
    r = await client.delete(ME, headers=superuser_headers)
    assert r.status_code == 400, r.text
    assert r.json() == {"detail": SELF_DELETION, "code": "bad_request"}
    assert reload(db, superuser.id) is not None


async def test_delete_me_without_a_token_is_401(client, db, user):
    r = await client.delete(ME)
    assert r.status_code == 401, r.text
    assert reload(db, user.id) is not None
