"""Signing in to /admin: who gets in, the cookie that follows, and everything that ends it."""

import re
import time
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlmodel import select

from core.security import TokenType, create_token
from modules.admin.pages import found_pages
from modules.auth.models import AuthSession
from modules.users.models import User
from tests.admin.helpers import SAME_ORIGIN, form_token, sign_in_to_admin
from tests.helpers import PASSWORD, app_client

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
    views = [view.identity for found in found_pages().values() for view in found.views]
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


def copied(client) -> dict[str, str]:
    """The session cookie as someone who copied it out of the browser would send it."""
    return {"Cookie": f"admin_session={client.cookies['admin_session']}"}


async def test_a_copy_of_the_cookie_is_refused_once_signed_out(app, client, superuser):
    await sign_in_to_admin(client, superuser)
    copy = copied(client)
    assert (await client.get("/admin/logout")).status_code == 302
    async with app_client(app) as elsewhere:
        r = await elsewhere.get("/admin/user/list", headers=copy)
    assert r.status_code == 302
    assert r.headers["location"].endswith("/admin/login")


async def test_a_sign_in_ended_by_losing_the_superuser_flag_stays_ended(
    app, client, superuser, make_user, headers_for
):
    other = headers_for(make_user("other-root@example.com", is_superuser=True))
    await sign_in_to_admin(client, superuser)
    copy = copied(client)
    await lose_the_superuser_flag(client, superuser, {}, other)
    assert (await client.get("/admin/user/list")).status_code == 302
    r = await client.patch(f"/api/v1/users/{superuser.id}", json={"is_superuser": True}, headers=other)
    assert r.status_code == 200, r.text
    async with app_client(app) as elsewhere:
        assert (await elsewhere.get("/admin/user/list", headers=copy)).status_code == 302


async def test_signing_in_again_ends_the_sign_in_before(app, client, superuser):
    await sign_in_to_admin(client, superuser)
    first = copied(client)
    await sign_in_to_admin(client, superuser)
    async with app_client(app) as elsewhere:
        assert (await elsewhere.get("/admin/user/list", headers=first)).status_code == 302
        assert (await elsewhere.get("/admin/user/list", headers=copied(client))).status_code == 200


async def test_a_sign_in_is_a_sign_in_session_that_ends_there(app, client, superuser, make_user):
    await sign_in_to_admin(client, superuser)
    other = make_user("other-root@example.com", is_superuser=True)
    async with app_client(app) as elsewhere:
        token = await sign_in_to_admin(elsewhere, other)
        # The other operator finds root's sign-in among the sign-in sessions, and ends it.
        page = (await elsewhere.get(f"/admin/auth-session/list?user_id={superuser.id}")).text
        (auth_session_id,) = set(re.findall(r"/admin/auth-session/details/([0-9a-f-]{36})", page))
        r = await elsewhere.post(
            f"/admin/auth-session/run/end/{auth_session_id}", data={"csrf_token": token}, headers=SAME_ORIGIN
        )
        assert r.status_code == 303
    r = await client.get("/admin/user/list")
    assert r.status_code == 302
    assert r.headers["location"].endswith("/admin/login")


def admin_sign_in_of(db, user: User, client) -> AuthSession:
    """The session that signing in to /admin with `client` (its user agent) started."""
    db.expire_all()
    (found,) = db.exec(
        select(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.user_agent == client.headers["user-agent"]
        )
    ).all()
    return found


async def test_a_sign_in_is_a_session_of_the_account_that_lasts_admin_session_expire_minutes(
    client, db, superuser
):
    await sign_in_to_admin(client, superuser)
    admin_sign_in = admin_sign_in_of(db, superuser, client)
    assert admin_sign_in.revoked_at is None
    lifetime = admin_sign_in.expires_at - admin_sign_in.created_at
    assert abs(lifetime - timedelta(minutes=480)) < timedelta(seconds=5)
    await client.get("/admin/logout")
    assert admin_sign_in_of(db, superuser, client).revoked_at is not None


async def test_a_sign_in_refreshes_no_token(client, db, superuser, settings):
    await sign_in_to_admin(client, superuser)
    # It has none; one made for it with the service's own key is refused all the same.
    forged, _ = create_token(
        subject=str(superuser.id),
        token_type=TokenType.REFRESH,
        secret=settings.secret_key,
        lifetime=timedelta(days=1),
        claims={"sid": str(admin_sign_in_of(db, superuser, client).id)},
    )
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": forged})
    assert r.status_code == 401


async def test_its_owner_sees_a_sign_in_among_their_sessions_and_ends_it_there(
    client, db, superuser, superuser_headers
):
    await sign_in_to_admin(client, superuser)
    admin_sign_in = admin_sign_in_of(db, superuser, client)
    listed = (await client.get("/api/v1/auth/sessions", headers=superuser_headers)).json()
    (shown,) = [auth_session for auth_session in listed if auth_session["id"] == str(admin_sign_in.id)]
    assert (shown["user_agent"], shown["current"]) == (client.headers["user-agent"], False)
    r = await client.delete(f"/api/v1/auth/sessions/{admin_sign_in.id}", headers=superuser_headers)
    assert r.status_code == 204
    r = await client.get("/admin/user/list")
    assert r.status_code == 302
    assert r.headers["location"].endswith("/admin/login")
