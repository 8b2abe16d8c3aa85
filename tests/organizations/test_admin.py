"""Organizations, memberships and invitations in /admin: found by name, organization, account and
address; roles changed and invitations revoked through the service, under the owner rules of the
API; every action logged; an invitation's nonce digest never shown."""

import re
import uuid

import pytest
from sqlmodel import select

from modules.organizations.models import Invitation, Membership
from modules.organizations.service import LAST_OWNER
from tests.admin.helpers import SAME_ORIGIN, sign_in_to_admin
from tests.organizations.helpers import ACCEPT, URL, add_member, add_organization, invitation_token, role_of

ROLE_BUTTONS = re.compile(r'name="action" value="make_(\w+)"|/run/make_(\w+)/')


@pytest.fixture
async def token(client, superuser):
    return await sign_in_to_admin(client, superuser)


async def act(client, token, view, action, row_id):
    r = await client.post(
        f"/admin/{view}/run/{action}/{row_id}", data={"csrf_token": token}, headers=SAME_ORIGIN
    )
    assert r.status_code == 303, r.text
    return r


def membership_id(db, organization, user_id) -> uuid.UUID:
    db.expire_all()
    found = db.exec(
        select(Membership).where(
            Membership.organization_id == uuid.UUID(organization["id"]), Membership.user_id == user_id
        )
    ).one()
    return found.id


async def invite(client, headers, organization, email):
    r = await client.post(
        f"{URL}/{organization['id']}/invitations", json={"email": email, "role": "admin"}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def table(page) -> str:
    """The rows a list page shows (its filters, beside them, offer every choice)."""
    assert page.status_code == 200, page.text
    return page.text.split("<tbody")[1].split("</tbody>")[0]


async def test_organizations_are_found_by_name(client, token, db):
    add_organization(db, "Acme Rockets")
    add_organization(db, "Globex")
    page = (await client.get("/admin/organization/list?search=rocket")).text
    assert "Acme Rockets" in page
    assert "Globex" not in page


async def test_memberships_are_filtered_by_organization_and_by_account(client, token, db, user, make_user):
    acme, globex = add_organization(db, "Acme"), add_organization(db, "Globex")
    gina = make_user("gina@example.com")
    add_member(db, acme, user.id, "owner")
    add_member(db, globex, gina.id, "viewer")
    rows = table(await client.get(f"/admin/membership/list?organization_id={acme}"))
    assert user.email in rows  # each membership by its organization's name and account's email
    assert "Acme" in rows
    assert "gina@example.com" not in rows
    rows = table(await client.get(f"/admin/membership/list?user_id={gina.id}"))
    assert "Globex" in rows
    assert "Acme" not in rows


async def test_invitations_are_found_by_address_and_never_show_the_nonce_digest(
    client, token, db, user_headers, organization
):
    await invite(client, user_headers, organization, "bob@example.com")
    await invite(client, user_headers, organization, "carol@example.com")
    (bob,) = db.exec(select(Invitation).where(Invitation.email == "bob@example.com")).all()
    page = (await client.get("/admin/invitation/list?search=BOB")).text
    assert "bob@example.com" in page
    assert "carol@example.com" not in page
    for path in ("/admin/invitation/list", f"/admin/invitation/details/{bob.id}"):
        page = (await client.get(path)).text
        assert bob.nonce not in page
        assert "nonce" not in page.lower()
    assert "Acme" in page  # the organization, by its name
    assert (await client.get(f"/admin/invitation/edit/{bob.id}")).status_code == 403


def logged(caplog) -> list[dict]:
    return [record.msg for record in caplog.records if record.name == "modules.admin"]


async def test_revoking_an_invitation_kills_its_link_and_is_logged(
    client, token, db, user_headers, organization, make_user, headers_for, outbox, caplog, superuser
):
    caplog.set_level("INFO", logger="modules.admin")
    invitation = await invite(client, user_headers, organization, "bob@example.com")
    link = invitation_token(outbox, "bob@example.com")
    r = await act(client, token, "invitation", "revoke", invitation["id"])
    assert r.headers["location"] == "/admin/invitation/list"  # the row is gone: back to the list
    assert "The invitation of bob@example.com is revoked" in (await client.get(r.headers["location"])).text
    assert db.exec(select(Invitation)).all() == []
    bob = headers_for(make_user("bob@example.com", is_verified=True))
    assert (await client.post(ACCEPT, json={"token": link}, headers=bob)).status_code == 400
    (done,) = [event for event in logged(caplog) if event["event"] == "admin_action"]
    assert (done["view"], done["action"], done["target_id"]) == ("invitation", "revoke", invitation["id"])
    assert done["admin_id"] == str(superuser.id)


async def test_a_members_role_changes_under_the_owner_rules(
    client, token, db, user, organization, member_of, caplog
):
    caplog.set_level("INFO", logger="modules.admin")
    member, _ = member_of("member")
    membership = membership_id(db, organization, member.id)
    page = (await client.get(f"/admin/membership/details/{membership}")).text
    offered = {found[0] or found[1] for found in ROLE_BUTTONS.findall(page)}
    assert offered == {"owner", "admin", "viewer"}  # every role but the one it has

    r = await act(client, token, "membership", "make_admin", membership)
    assert "Now admin in this organization" in (await client.get(r.headers["location"])).text
    assert role_of(db, organization, member.id) == "admin"

    # Acting as an owner, the operator cannot leave the organization without one.
    owner = membership_id(db, organization, user.id)
    r = await act(client, token, "membership", "make_member", owner)
    assert LAST_OWNER in (await client.get(r.headers["location"])).text
    assert role_of(db, organization, user.id) == "owner"
    refused = [event for event in logged(caplog) if event["event"] == "admin_action_refused"]
    assert [(event["action"], event["reason"]) for event in refused] == [("make_member", LAST_OWNER)]
    await act(client, token, "membership", "make_owner", membership)
    await act(client, token, "membership", "make_member", owner)
    assert role_of(db, organization, user.id) == "member"
