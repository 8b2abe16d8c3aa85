"""The sign-in sessions view: who, from where, since when, and ending one."""

import re
from datetime import timedelta

from sqlmodel import Session, select

from core.db import utcnow
from modules.auth.models import AuthSession
from modules.auth.service import start_session
from tests.admin.helpers import SAME_ORIGIN


def sign_in(db: Session, user, settings, agent: str) -> str:
    tokens = start_session(session=db, user=user, settings=settings, user_agent=agent, ip_address="192.0.2.7")
    return tokens.refresh_token


async def test_live_sessions_are_listed_by_account_and_address(client, token, db, user, settings):
    sign_in(db, user, settings, "Firefox on a laptop")
    page = (await client.get("/admin/auth-session/list")).text
    assert user.email in page
    assert "192.0.2.7" in page
    assert "Firefox on a laptop" in page
    assert "refresh_token_hash" not in page


async def test_ending_a_session_refuses_its_refresh_token_and_drops_it_from_the_list(
    client, token, db, user, settings
):
    refresh_token = sign_in(db, user, settings, "Phone")
    page = (await client.get(f"/admin/auth-session/list?user_id={user.id}")).text
    (session_id,) = set(re.findall(r"/admin/auth-session/details/([0-9a-f-]{36})", page))
    r = await client.post(
        f"/admin/auth-session/run/end/{session_id}", data={"csrf_token": token}, headers=SAME_ORIGIN
    )
    assert r.status_code == 303
    assert "Session ended" in (await client.get(r.headers["location"])).text
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert r.status_code == 401
    assert "Phone" not in (await client.get("/admin/auth-session/list")).text


async def test_the_account_filter_offers_accounts_by_email(client, token, db, user, make_user, settings):
    sign_in(db, user, settings, "Laptop")
    sign_in(db, make_user("gina@example.com"), settings, "Tablet")
    page = (await client.get(f"/admin/auth-session/list?user_id={user.id}")).text
    assert "Laptop" in page
    assert "Tablet" not in page
    assert "gina@example.com" in page  # still offered in the filter
    assert (await client.get("/admin/auth-session/list?user_id=not-an-id")).status_code == 200


async def test_an_admin_sign_in_is_marked_used_by_its_pages(client, token, db, superuser):
    (admin_sign_in,) = db.exec(select(AuthSession).where(AuthSession.user_id == superuser.id)).all()
    an_hour_ago = utcnow() - timedelta(hours=1)
    admin_sign_in.last_used_at = an_hour_ago
    db.add(admin_sign_in)
    db.commit()
    assert (await client.get("/admin/user/list")).status_code == 200
    db.refresh(admin_sign_in)
    assert admin_sign_in.last_used_at > an_hour_ago + timedelta(minutes=59)


async def test_each_session_says_where_it_signs_in_and_no_hash_is_shown(client, token, db, user, settings):
    sign_in(db, user, settings, "Phone")
    (login,) = db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all()
    page = (await client.get("/admin/auth-session/list")).text
    cells = re.findall(r"<td>\s*(/admin|API)\s*</td>", page)
    assert sorted(cells) == ["/admin", "API"]  # root's sign-in here, and alice's login
    assert login.refresh_token_hash not in page
    assert login.refresh_token_hash not in (await client.get(f"/admin/auth-session/details/{login.id}")).text
