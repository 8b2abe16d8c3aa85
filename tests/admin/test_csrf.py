"""Forged changes: every change to /admin must come from its own pages, with the session's token.
(The browser test posts a real form from another origin too: tests/deploy/test_admin_browser.py.)"""

import pytest

from tests.admin.helpers import SAME_ORIGIN, form_token
from tests.helpers import PASSWORD, app_client


async def deactivate(client, user, *, token: str | None, headers: dict[str, str]):
    data = {} if token is None else {"csrf_token": token}
    return await client.post(f"/admin/user/run/deactivate/{user.id}", data=data, headers=headers)


async def test_a_change_from_the_admins_own_page_is_made(client, token, user):
    r = await deactivate(client, user, token=token, headers=SAME_ORIGIN)
    assert r.status_code == 303
    assert "is deactivated" in (await client.get(r.headers["location"])).text


@pytest.mark.parametrize(
    ("with_token", "headers"),
    [
        (False, SAME_ORIGIN),
        (True, {"Origin": "http://attacker.example"}),
        (True, {"Origin": "null"}),
        (True, {}),
        (True, {"Referer": "http://attacker.example/page"}),
    ],
    ids=["no-token", "other-origin", "null-origin", "no-origin", "other-referer"],
)
async def test_a_forged_change_is_refused(client, token, user, db, with_token, headers):
    r = await deactivate(client, user, token=token if with_token else None, headers=headers)
    assert r.status_code == 403
    assert "did not come from this site" in r.text
    db.refresh(user)
    assert user.is_active


async def test_a_token_of_another_session_is_refused(client, token, user, app):
    async with app_client(app) as stranger:
        theirs = form_token((await stranger.get("/admin/login")).text)
    assert theirs != token
    assert (await deactivate(client, user, token=theirs, headers=SAME_ORIGIN)).status_code == 403


async def test_a_browser_without_origin_passes_with_its_referer(client, token, user):
    headers = {"Referer": "http://testserver/admin/user/details/x"}
    assert (await deactivate(client, user, token=token, headers=headers)).status_code == 303


async def test_a_script_may_send_the_token_as_a_header(client, token, user):
    # As sqladmin's delete does (a jQuery DELETE); each entity's tests delete a row that way.
    r = await deactivate(client, user, token=None, headers={**SAME_ORIGIN, "X-CSRF-Token": token})
    assert r.status_code == 303


async def test_the_sign_in_form_needs_its_token_too(client, superuser):
    form = {"username": superuser.email, "password": PASSWORD}
    await client.get("/admin/login")
    assert (await client.post("/admin/login", data=form, headers=SAME_ORIGIN)).status_code == 403
