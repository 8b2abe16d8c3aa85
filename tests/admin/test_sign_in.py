"""Signing in to /admin: who gets in, the cookie that follows, and everything that ends it."""

import time
from http.cookies import SimpleCookie

import pytest

from core import discovery
from modules.users.models import User
from tests.admin.helpers import SAME_ORIGIN, form_token, sign_in_to_admin
from tests.helpers import PASSWORD

REFUSAL = "Invalid credentials."


async def sign_in_answer(client, email, password):
    login = await client.get("/admin/login")
    form = {"username": email, "password": password, "csrf_token": form_token(login.text)}
    return await client.post("/admin/login", data=form, headers=SAME_ORIGIN)


def session_cookie(response) -> SimpleCookie:
    (header,) = [
        value for value in response.headers.get_list("set-cookie") if value.startswith("admin_session=")
    ]
    cookie = SimpleCookie()
    cookie.load(header)
    return cookie


async def test_a_superuser_signs_in_and_reaches_every_view(client, superuser):
    await sign_in_to_admin(client, superuser)
    views = [view.identity for module in discovery.admin_modules() for view in module.views]
    for view in [*views, "job"]:
        r = await client.get(f"/admin/{view}/list")
        assert r.status_code == 200, (view, r.text)
    assert "root@example.com" in (await client.get("/admin/user/list")).text


async def test_without_a_session_every_page_leads_to_the_sign_in(client):
    r = await client.get("/admin/user/list")
    assert r.status_code == 302
    assert r.headers["location"].endswith("/admin/login")


@pytest.mark.parametrize(
    ("email", "fields", "password"),
    [
        ("root@example.com", {"is_superuser": True}, "wrong password"),
        ("nobody@example.com", None, PASSWORD),
        ("alice@example.com", {}, PASSWORD),  # an active account, but not a superuser
        ("old@example.com", {"is_superuser": True, "is_active": False}, PASSWORD),
    ],
    ids=["wrong-password", "unknown-address", "not-a-superuser", "deactivated-superuser"],
)
async def test_everyone_else_gets_the_same_refusal(client, make_user, email, fields, password):
    if fields is not None:
        make_user(email, **fields)
    r = await sign_in_answer(client, email, password)
    assert r.status_code == 400
    assert REFUSAL in r.text
    assert (await client.get("/admin/")).status_code == 302


async def test_the_session_cookie_is_httponly_strict_and_kept_to_admin(client, superuser):
    r = await sign_in_answer(client, superuser.email, PASSWORD)
    morsel = session_cookie(r)["admin_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    assert morsel["path"] == "/admin"
    assert morsel["max-age"] == str(480 * 60)
    assert morsel["secure"] == ""  # plain http on a laptop: the browser would drop a Secure cookie


async def test_in_production_the_session_cookie_is_secure(own_app):
    async with own_app(ENVIRONMENT="production", MAIL_BACKEND="smtp") as (_app, client):
        # The sign-in page starts the session (its form token); over plain http, as here, the
        # browser would not even send it back.
        r = await client.get("/admin/login")
    assert session_cookie(r)["admin_session"]["secure"] is True


async def test_the_session_expires(own_app, superuser):
    async with own_app(ADMIN_SESSION_EXPIRE_MINUTES=0.02) as (_app, client):  # 1.2 seconds
        await sign_in_to_admin(client, superuser)
        # The browser drops the cookie after Max-Age; the service refuses it anyway.
        cookie = {"Cookie": f"admin_session={client.cookies['admin_session']}"}
        assert (await client.get("/admin/user/list", headers=cookie)).status_code == 200
        time.sleep(1.3)
        r = await client.get("/admin/user/list", headers=cookie)
    assert r.status_code == 302
    assert r.headers["location"].endswith("/admin/login")


async def sign_out_everywhere(client, user: User, own: dict[str, str], _other: dict[str, str]) -> None:
    assert (await client.post("/api/v1/auth/logout-all", headers=own)).status_code == 204


async def change_the_password(client, user: User, own: dict[str, str], _other: dict[str, str]) -> None:
    body = {"current_password": PASSWORD, "new_password": "another good password"}
    assert (await client.post("/api/v1/users/me/password", json=body, headers=own)).status_code == 204


async def be_deactivated(client, user: User, _own: dict[str, str], other: dict[str, str]) -> None:
    r = await client.patch(f"/api/v1/users/{user.id}", json={"is_active": False}, headers=other)
    assert r.status_code == 200, r.text


async def lose_the_superuser_flag(client, user: User, _own: dict[str, str], other: dict[str, str]) -> None:
    r = await client.patch(f"/api/v1/users/{user.id}", json={"is_superuser": False}, headers=other)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "end", [sign_out_everywhere, change_the_password, be_deactivated, lose_the_superuser_flag]
)
async def test_the_session_dies_with_the_accounts_sign_ins(
    client, superuser, superuser_headers, make_user, headers_for, end
):
    other = headers_for(make_user("other-root@example.com", is_superuser=True))
    await sign_in_to_admin(client, superuser)
    await end(client, superuser, superuser_headers, other)
    r = await client.get("/admin/user/list")
    assert r.status_code == 302
    assert r.headers["location"].endswith("/admin/login")


async def test_signing_out_ends_the_session(client, superuser):
    await sign_in_to_admin(client, superuser)
    r = await client.get("/admin/logout")
    assert r.status_code == 302
    assert (await client.get("/admin/user/list")).status_code == 302


async def test_signing_in_shares_the_apis_login_limit(own_app, superuser):
    async with own_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_LOGIN="2/minute") as (_app, client):
        for _ in range(2):
            assert (await sign_in_answer(client, superuser.email, "wrong password")).status_code == 400
        r = await sign_in_answer(client, superuser.email, PASSWORD)
        assert r.status_code == 429
        assert "Too many sign-in attempts" in r.text
        assert int(r.headers["retry-after"]) >= 1
        # Guessing through /admin buys no extra tries at the API's login, nor the other way round.
        form = {"username": superuser.email, "password": PASSWORD}
        assert (await client.post("/api/v1/auth/login", data=form)).status_code == 429
