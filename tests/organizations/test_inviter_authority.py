"""An invitation is worth what its sender may grant when it is used, not when it was sent: a
sender who has left, been removed or demoted, or whose account is gone, sent a dead link (the
invitee was promised a role: they are refused, never let in with a lesser one). A removed
member's pending invitations are revoked with their membership."""

import uuid

import pytest
from sqlmodel import select

from core.events.testing import pending_deliveries, published_events
from modules.organizations.events import MemberRemoved
from modules.organizations.models import Invitation
from modules.organizations.service import INVALID_LINK, INVITER_WITHOUT_AUTHORITY
from tests.helpers import delete_row
from tests.organizations.helpers import BOB, URL, accept, add_member, invitation_token, invite, role_of

NO_AUTHORITY = {"detail": INVITER_WITHOUT_AUTHORITY, "code": "link_invalid"}
DEAD_LINK = {"detail": INVALID_LINK, "code": "link_invalid"}


def pending(db):
    db.expire_all()
    return sorted(row.email for row in db.exec(select(Invitation)).all())


async def set_role(client, user_headers, organization, user_id, role):
    r = await client.patch(
        f"{URL}/{organization['id']}/members/{user_id}", json={"role": role}, headers=user_headers
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("inviter_role", "invited", "demoted_to"),
    [("admin", "admin", "member"), ("admin", "member", "member"), ("owner", "owner", "admin")],
    ids=["below-the-role", "no-longer-invites", "owner-to-admin"],
)
async def test_an_inviter_demoted_since_sent_a_dead_link(
    client,
    user_headers,
    organization,
    member_of,
    db,
    outbox,
    bob,
    bob_headers,
    inviter_role,
    invited,
    demoted_to,
):
    inviter, inviter_headers = member_of(inviter_role)
    await invite(client, inviter_headers, organization, invited)
    await set_role(client, user_headers, organization, inviter.id, demoted_to)
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (400, NO_AUTHORITY)
    assert role_of(db, organization, bob.id) is None
    # Still listed, for those who may invite to revoke it or send a new one.
    assert pending(db) == [BOB]


async def test_an_inviter_demoted_to_a_role_that_still_grants_it_sent_a_live_link(
    client, user_headers, organization, member_of, db, outbox, bob, bob_headers
):
    inviter, inviter_headers = member_of("owner")
    await invite(client, inviter_headers, organization, "admin")
    await set_role(client, user_headers, organization, inviter.id, "admin")
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()["role"]) == (200, "admin")
    assert role_of(db, organization, bob.id) == "admin"


async def test_a_removed_inviters_invitations_are_revoked(
    client, user_headers, organization, member_of, db, outbox, bob, bob_headers
):
    inviter, inviter_headers = member_of("admin")
    await invite(client, inviter_headers, organization, "admin")
    await invite(client, user_headers, organization, "member", email="carol@example.com")
    with published_events() as events:
        r = await client.delete(f"{URL}/{organization['id']}/members/{inviter.id}", headers=user_headers)
    assert r.status_code == 204, r.text
    [removed] = events.of(MemberRemoved)
    assert (removed.organization_id, removed.user_id) == (uuid.UUID(organization["id"]), inviter.id)
    assert pending_deliveries(db.get_bind()) == []
    assert pending(db) == ["carol@example.com"]  # the owner's own invitation stays
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (400, DEAD_LINK)
    assert role_of(db, organization, bob.id) is None


async def test_an_inviter_who_leaves_takes_their_invitations_along(
    client, organization, member_of, db, outbox, bob, bob_headers
):
    inviter, inviter_headers = member_of("admin")
    await invite(client, inviter_headers, organization, "member")
    with published_events() as events:
        r = await client.delete(f"{URL}/{organization['id']}/members/{inviter.id}", headers=inviter_headers)
    assert r.status_code == 204, r.text
    assert [event.user_id for event in events.of(MemberRemoved)] == [inviter.id]
    assert pending(db) == []
    assert (await accept(client, bob_headers, invitation_token(outbox, BOB))).status_code == 400


async def test_an_inviter_removed_and_back_keeps_what_they_send_after(
    client, user_headers, organization, member_of, db, outbox, bob, bob_headers
):
    inviter, inviter_headers = member_of("admin")
    await invite(client, inviter_headers, organization, "member", email="carol@example.com")
    r = await client.delete(f"{URL}/{organization['id']}/members/{inviter.id}", headers=user_headers)
    assert r.status_code == 204, r.text
    add_member(db, uuid.UUID(organization["id"]), inviter.id, "admin")
    await invite(client, inviter_headers, organization, "member")
    assert pending(db) == [BOB]
    assert (await accept(client, bob_headers, invitation_token(outbox, BOB))).status_code == 200


async def test_an_inviter_whose_account_is_gone_sent_a_dead_link(
    client, organization, member_of, db, outbox, bob, bob_headers
):
    inviter, inviter_headers = member_of("admin")
    await invite(client, inviter_headers, organization, "member")
    delete_row(db, "users", inviter.id)  # its invitations' invited_by is set null
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (400, NO_AUTHORITY)
    assert role_of(db, organization, bob.id) is None


async def test_a_deactivated_inviter_sent_a_dead_link(
    client, organization, member_of, db, outbox, bob, bob_headers, superuser_headers
):
    inviter, inviter_headers = member_of("admin")
    await invite(client, inviter_headers, organization, "member")
    r = await client.patch(
        f"/api/v1/users/{inviter.id}", json={"is_active": False}, headers=superuser_headers
    )
    assert r.status_code == 200, r.text
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (400, NO_AUTHORITY)


async def test_a_superuser_invites_as_an_owner_while_they_are_one(
    client, organization, superuser, superuser_headers, db, outbox, bob, bob_headers, make_user, headers_for
):
    await invite(client, superuser_headers, organization, "owner")
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()["role"]) == (200, "owner")

    carol = make_user("carol@example.com", is_verified=True)
    await invite(client, superuser_headers, organization, "owner", email=carol.email)
    operator = make_user("operator@example.com", is_superuser=True)
    r = await client.patch(
        f"/api/v1/users/{superuser.id}", json={"is_superuser": False}, headers=headers_for(operator)
    )
    assert r.status_code == 200, r.text
    r = await accept(client, headers_for(carol), invitation_token(outbox, carol.email))
    assert (r.status_code, r.json()) == (400, NO_AUTHORITY)
    assert role_of(db, organization, carol.id) is None
