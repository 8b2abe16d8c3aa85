"""/api/v1/users and /api/v1/users/{id}: superuser administration of accounts."""

import pytest
from sqlmodel import select

from modules.users.dependencies import NO_USER, SUPERUSERS_ONLY
from modules.users.models import User
from modules.users.service import SELF_DELETION, SELF_DEMOTION
from tests.helpers import PASSWORD, USER_READ_FIELDS

USERS = "/api/v1/users"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

# Every superuser-only endpoint, with a body that would be accepted.
ADMIN_ENDPOINTS = [
    ("GET", USERS, None),
    ("POST", USERS, {"email": "new@example.com", "password": PASSWORD}),
    ("GET", f"{USERS}/{{id}}", None),
    ("PATCH", f"{USERS}/{{id}}", {"full_name": "Changed"}),
    ("DELETE", f"{USERS}/{{id}}", None),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in ADMIN_ENDPOINTS]


def reload(db, user_id):
    db.expire_all()
    return db.exec(select(User).where(User.id == user_id)).first()


def all_emails(db):
    db.expire_all()
    return sorted(user.email for user in db.exec(select(User)).all())


async def login(client, email, password=PASSWORD):
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


async def call(client, method, path, body, target, headers=None):
    return await client.request(method, path.format(id=target.id), json=body, headers=headers)


# Who may call


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS, ids=ENDPOINT_IDS)
async def test_an_ordinary_user_gets_403(client, db, make_user, user, user_headers, method, path, body):
    target = make_user("target@example.com", full_name="Target")
    r = await call(client, method, path, body, target, user_headers)
    assert r.status_code == 403, r.text
    assert r.json() == {"detail": SUPERUSERS_ONLY, "code": "forbidden"}
    assert all_emails(db) == ["alice@example.com", "target@example.com"]
    assert reload(db, target.id).full_name == "Target"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS, ids=ENDPOINT_IDS)
async def test_no_token_gets_401(client, db, make_user, method, path, body):
    target = make_user("target@example.com", full_name="Target")
    r = await call(client, method, path, body, target)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    assert all_emails(db) == ["target@example.com"]
    assert reload(db, target.id).full_name == "Target"


async def test_a_user_promoted_to_superuser_gets_in_at_once(client, db, user, user_headers):
    user.is_superuser = True
    db.add(user)
    db.commit()
    assert (await client.get(USERS, headers=user_headers)).status_code == 200


async def test_a_superuser_demoted_is_shut_out_at_once(client, db, make_user, headers_for):
    other_admin = make_user("admin2@example.com", is_superuser=True)
    headers = headers_for(other_admin)
    other_admin.is_superuser = False
    db.add(other_admin)
    db.commit()
    assert (await client.get(USERS, headers=headers)).status_code == 403


# GET /users


async def test_list_users_returns_a_page_of_everyone(client, make_user, superuser, superuser_headers):
    make_user("bob@example.com")
    r = await client.get(USERS, headers=superuser_headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert (page["total"], page["limit"], page["offset"]) == (2, 20, 0)
    assert [item["email"] for item in page["items"]] == ["root@example.com", "bob@example.com"]
    assert all(set(item) == USER_READ_FIELDS for item in page["items"])


async def test_list_users_honours_limit_and_offset(client, make_user, superuser, superuser_headers):
    for n in range(4):
        make_user(f"user{n}@example.com")
    r = await client.get(USERS, params={"limit": 2, "offset": 1}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [item["email"] for item in page["items"]] == ["user0@example.com", "user1@example.com"]


async def test_list_users_past_the_end_is_an_empty_page(client, superuser, superuser_headers):
    r = await client.get(USERS, params={"offset": 10}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert (r.json()["items"], r.json()["total"]) == ([], 1)


@pytest.mark.parametrize("limit", [1, 100])
async def test_list_users_accepts_limits_from_1_to_100(client, superuser, superuser_headers, limit):
    r = await client.get(USERS, params={"limit": limit}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert r.json()["limit"] == limit


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": -1}, {"offset": -1}, {"limit": "ten"}]
)
async def test_list_users_with_a_bad_page_is_422(client, superuser, superuser_headers, params):
    r = await client.get(USERS, params=params, headers=superuser_headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", next(iter(params))]


# POST /users


async def test_create_user_is_201_and_returns_the_user(client, superuser_headers):
    r = await client.post(
        USERS,
        json={"email": "New@Example.com", "password": PASSWORD, "full_name": "New"},
        headers=superuser_headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == USER_READ_FIELDS
    assert (body["email"], body["full_name"], body["is_active"], body["is_superuser"]) == (
        "new@example.com",
        "New",
        True,
        False,
    )


async def test_a_created_user_can_log_in(client, superuser_headers):
    await client.post(
        USERS, json={"email": "new@example.com", "password": PASSWORD}, headers=superuser_headers
    )
    assert (await login(client, "new@example.com")).status_code == 200


async def test_create_user_can_make_a_superuser(client, superuser_headers):
    r = await client.post(
        USERS,
        json={"email": "admin2@example.com", "password": PASSWORD, "is_superuser": True},
        headers=superuser_headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["is_superuser"] is True
    token = (await login(client, "admin2@example.com")).json()["access_token"]
    assert (await client.get(USERS, headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_create_user_can_make_an_inactive_account(client, superuser_headers):
    r = await client.post(
        USERS,
        json={"email": "dormant@example.com", "password": PASSWORD, "is_active": False},
        headers=superuser_headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["is_active"] is False
    assert (await login(client, "dormant@example.com")).status_code == 401


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@example.com"])
async def test_create_user_with_a_taken_email_is_409(client, db, user, superuser_headers, email):
    r = await client.post(USERS, json={"email": email, "password": PASSWORD}, headers=superuser_headers)
    assert r.status_code == 409, r.text
    assert all_emails(db) == ["alice@example.com", "root@example.com"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "new@example.com", "password": "short"},
        {"email": "new@example.com", "password": "€" * 129},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "new@example.com", "password": PASSWORD, "hashed_password": "$2b$04$x"},
    ],
    ids=["short-password", "long-password", "bad-email", "unknown-field"],
)
async def test_create_user_with_an_invalid_body_is_422(client, db, superuser_headers, body):
    r = await client.post(USERS, json=body, headers=superuser_headers)
    assert r.status_code == 422, r.text
    assert all_emails(db) == ["root@example.com"]


# GET /users/{id}


async def test_read_user_returns_the_user(client, user, superuser_headers):
    r = await client.get(f"{USERS}/{user.id}", headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert set(r.json()) == USER_READ_FIELDS
    assert (r.json()["id"], r.json()["email"]) == (str(user.id), "alice@example.com")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_unknown_id_is_404(client, superuser_headers, method):
    body = {"full_name": "x"} if method == "PATCH" else None
    r = await client.request(method, f"{USERS}/{UNKNOWN_ID}", json=body, headers=superuser_headers)
    assert r.status_code == 404, r.text
    assert r.json() == {"detail": NO_USER, "code": "not_found"}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_id_that_is_not_a_uuid_is_422(client, superuser_headers, method):
    body = {"full_name": "x"} if method == "PATCH" else None
    r = await client.request(method, f"{USERS}/not-a-uuid", json=body, headers=superuser_headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["path", "user_id"]


# PATCH /users/{id}


async def test_update_user_changes_fields(client, db, user, superuser_headers):
    r = await client.patch(
        f"{USERS}/{user.id}",
        json={"email": "Alice.L@Example.com", "full_name": "Alice L."},
        headers=superuser_headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["full_name"]) == ("alice.l@example.com", "Alice L.")
    stored = reload(db, user.id)
    assert (stored.email, stored.full_name) == ("alice.l@example.com", "Alice L.")


async def test_update_user_sets_a_password_that_logs_in(client, user, superuser_headers):
    r = await client.patch(
        f"{USERS}/{user.id}", json={"password": "set by the admin"}, headers=superuser_headers
    )
    assert r.status_code == 200, r.text
    assert (await login(client, "alice@example.com", "set by the admin")).status_code == 200
    assert (await login(client, "alice@example.com", PASSWORD)).status_code == 401


async def test_update_user_with_a_too_short_password_is_422(client, user, superuser_headers):
    r = await client.patch(f"{USERS}/{user.id}", json={"password": "short"}, headers=superuser_headers)
    assert r.status_code == 422, r.text
    assert (await login(client, "alice@example.com", PASSWORD)).status_code == 200


async def test_update_user_deactivates_an_account(client, db, user, user_headers, superuser_headers):
    r = await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    assert reload(db, user.id).is_active is False


async def test_a_deactivated_user_can_no_longer_log_in(client, user, superuser_headers):
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=superuser_headers)
    assert (await login(client, "alice@example.com")).status_code == 401


async def test_a_deactivated_users_access_token_is_401(client, user, user_headers, superuser_headers):
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=superuser_headers)
    assert (await client.get("/api/v1/users/me", headers=user_headers)).status_code == 401


async def test_a_reactivated_user_can_log_in_again(client, user, superuser_headers):
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=superuser_headers)
    await client.patch(f"{USERS}/{user.id}", json={"is_active": True}, headers=superuser_headers)
    assert (await login(client, "alice@example.com")).status_code == 200


async def test_update_user_promotes_to_superuser(client, db, user, user_headers, superuser_headers):
    r = await client.patch(f"{USERS}/{user.id}", json={"is_superuser": True}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_superuser"] is True
    assert (await client.get(USERS, headers=user_headers)).status_code == 200


async def test_update_user_demotes_another_superuser(client, make_user, headers_for, superuser_headers):
    other_admin = make_user("admin2@example.com", is_superuser=True)
    r = await client.patch(
        f"{USERS}/{other_admin.id}", json={"is_superuser": False}, headers=superuser_headers
    )
    assert r.status_code == 200, r.text
    assert (await client.get(USERS, headers=headers_for(other_admin))).status_code == 403


@pytest.mark.parametrize("email", ["root@example.com", "ROOT@example.com"])
async def test_update_user_to_a_taken_email_is_409(client, db, user, superuser, superuser_headers, email):
    r = await client.patch(f"{USERS}/{user.id}", json={"email": email}, headers=superuser_headers)
    assert r.status_code == 409, r.text
    assert reload(db, user.id).email == "alice@example.com"


async def test_update_user_with_an_unknown_field_is_422(client, db, user, superuser_headers):
    r = await client.patch(
        f"{USERS}/{user.id}",
        json={"hashed_password": "$2b$04$x", "full_name": "x"},
        headers=superuser_headers,
    )
    assert r.status_code == 422, r.text
    assert reload(db, user.id).full_name == "Alice"


@pytest.mark.parametrize("field", ["is_superuser", "is_active"])
async def test_a_superuser_cannot_demote_or_deactivate_themselves(
    client, db, superuser, superuser_headers, field
):
    r = await client.patch(f"{USERS}/{superuser.id}", json={field: False}, headers=superuser_headers)
    assert r.status_code == 400, r.text
    assert r.json() == {"detail": SELF_DEMOTION, "code": "bad_request"}
    stored = reload(db, superuser.id)
    assert (stored.is_superuser, stored.is_active) == (True, True)


async def test_a_superuser_can_edit_their_own_other_fields(client, db, superuser, superuser_headers):
    r = await client.patch(
        f"{USERS}/{superuser.id}",
        json={"full_name": "Root", "is_superuser": True, "is_active": True},
        headers=superuser_headers,
    )
    assert r.status_code == 200, r.text
    assert reload(db, superuser.id).full_name == "Root"


# DELETE /users/{id}


async def test_delete_user_is_204_and_removes_the_account(client, db, user, superuser_headers):
    r = await client.delete(f"{USERS}/{user.id}", headers=superuser_headers)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert reload(db, user.id) is None


async def test_a_deleted_users_token_is_401(client, user, user_headers, superuser_headers):
    await client.delete(f"{USERS}/{user.id}", headers=superuser_headers)
    assert (await client.get("/api/v1/users/me", headers=user_headers)).status_code == 401


async def test_delete_user_can_delete_another_superuser(client, db, make_user, superuser_headers):
    other_admin = make_user("admin2@example.com", is_superuser=True)
    r = await client.delete(f"{USERS}/{other_admin.id}", headers=superuser_headers)
    assert r.status_code == 204, r.text
    assert reload(db, other_admin.id) is None


async def test_a_superuser_cannot_delete_themselves(client, db, superuser, superuser_headers):
    r = await client.delete(f"{USERS}/{superuser.id}", headers=superuser_headers)
    assert r.status_code == 400, r.text
    assert r.json() == {"detail": SELF_DELETION, "code": "bad_request"}
    assert reload(db, superuser.id) is not None


async def test_deleting_twice_is_404_the_second_time(client, user, superuser_headers):
    assert (await client.delete(f"{USERS}/{user.id}", headers=superuser_headers)).status_code == 204
    assert (await client.delete(f"{USERS}/{user.id}", headers=superuser_headers)).status_code == 404
