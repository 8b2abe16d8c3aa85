"""The users view: found by email, flags switched and sign-ins ended through the users service,
the password hash never shown, and every change logged with the superuser who made it."""

import pytest

from modules.users.service import SELF_DEMOTION
from tests.admin.helpers import SAME_ORIGIN


async def act(client, token, user, action):
    r = await client.post(
        f"/admin/user/run/{action}/{user.id}", data={"csrf_token": token}, headers=SAME_ORIGIN
    )
    assert r.status_code == 303, r.text
    return (await client.get(r.headers["location"])).text


async def test_search_finds_accounts_by_email(client, token, make_user):
    make_user("carol@example.com")
    make_user("dave@example.com")
    page = (await client.get("/admin/user/list?search=CAROL")).text
    assert "carol@example.com" in page
    assert "dave@example.com" not in page


async def test_the_password_hash_is_never_shown_nor_editable(client, token, user):
    for path in (
        "/admin/user/list",
        f"/admin/user/details/{user.id}",
        f"/admin/user/list?search={user.email}",
    ):
        page = (await client.get(path)).text
        assert user.hashed_password not in page
        assert "hashed" not in page.lower()
    assert (await client.get(f"/admin/user/edit/{user.id}")).status_code == 403


async def test_deactivation_refuses_the_accounts_token_at_once(client, token, user, user_headers):
    assert (await client.get("/api/v1/users/me", headers=user_headers)).status_code == 200
    page = await act(client, token, user, "deactivate")
    assert f"{user.email} is deactivated" in page
    assert (await client.get("/api/v1/users/me", headers=user_headers)).status_code == 401
    await act(client, token, user, "activate")
    login = {"username": user.email, "password": "correct horse battery"}
    assert (await client.post("/api/v1/auth/login", data=login)).status_code == 200


async def test_signing_out_everywhere_refuses_the_accounts_token(client, token, user, user_headers):
    page = await act(client, token, user, "sign_out_everywhere")
    assert f"Every session and token of {user.email} has ended" in page
    assert (await client.get("/api/v1/users/me", headers=user_headers)).status_code == 401


@pytest.mark.parametrize(
    ("action", "flag", "value"),
    [("verify", "is_verified", True), ("grant_superuser", "is_superuser", True)],
)
async def test_flags_are_switched(client, token, make_user, db, action, flag, value):
    other = make_user("erin@example.com", is_verified=False)
    await act(client, token, other, action)
    db.refresh(other)
    assert getattr(other, flag) is value


async def test_revoking_the_superuser_flag(client, token, make_user, db):
    other = make_user("frank@example.com", is_superuser=True)
    await act(client, token, other, "revoke_superuser")
    db.refresh(other)
    assert other.is_superuser is False


@pytest.mark.parametrize("action", ["deactivate", "revoke_superuser"])
async def test_a_superuser_cannot_deactivate_or_demote_themselves(client, token, superuser, db, action):
    page = await act(client, token, superuser, action)
    assert SELF_DEMOTION in page
    db.refresh(superuser)
    assert superuser.is_active
    assert superuser.is_superuser


async def test_an_action_that_does_not_apply_is_refused(client, token, user):
    page = await act(client, token, user, "activate")  # already active: no such button
    assert "not for this row as it is now" in page


async def test_an_unknown_action_or_row_is_404(client, token, user):
    for path in (f"/admin/user/run/explode/{user.id}", "/admin/user/run/activate/not-an-id"):
        assert (await client.post(path, data={"csrf_token": token}, headers=SAME_ORIGIN)).status_code == 404


async def test_every_action_is_logged_with_the_acting_superuser(client, token, superuser, user, caplog):
    caplog.set_level("INFO", logger="modules.admin")
    await act(client, token, user, "deactivate")
    await act(client, token, superuser, "deactivate")
    events = [record.msg for record in caplog.records if record.name == "modules.admin"]
    done = next(event for event in events if event["event"] == "admin_action")
    refused = next(event for event in events if event["event"] == "admin_action_refused")
    fields = ("admin_id", "view", "action", "target_id")
    assert [done[key] for key in fields] == [str(superuser.id), "user", "deactivate", str(user.id)]
    assert [refused[key] for key in fields] == [str(superuser.id), "user", "deactivate", str(superuser.id)]
    assert refused["reason"] == SELF_DEMOTION
