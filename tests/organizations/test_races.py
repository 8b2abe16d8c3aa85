"""The same invitation request sent several times at once, as a double click or a retrying
client does: each answer is one a client can act on (never a 500), and a link still works once."""

import asyncio
import uuid

import pytest
from sqlmodel import select

from modules.organizations.models import Invitation, Membership
from tests.organizations.helpers import ACCEPT, URL, invitation_token

AT_ONCE = 6
BOB = "bob@example.com"


@pytest.fixture
async def invitations(client, user_headers):
    """The invitations URL of an organization `user` (alice) owns."""
    r = await client.post(URL, json={"name": "Acme"}, headers=user_headers)
    assert r.status_code == 201, r.text
    return f"{URL}/{r.json()['id']}/invitations"


async def at_once(send):
    return await asyncio.gather(*(send() for _ in range(AT_ONCE)))


def statuses(answers):
    return sorted(r.status_code for r in answers)


async def test_one_link_accepted_at_once_joins_once(
    client, user_headers, invitations, make_user, headers_for, outbox, db
):
    bob = make_user(BOB)
    await client.post(invitations, json={"email": BOB}, headers=user_headers)
    token, headers = invitation_token(outbox, BOB), headers_for(bob)
    answers = await at_once(lambda: client.post(ACCEPT, json={"token": token}, headers=headers))
    assert statuses(answers) == [200] + [400] * (AT_ONCE - 1), [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 400} == {"link_invalid"}
    assert len(db.exec(select(Membership).where(Membership.user_id == bob.id)).all()) == 1
    assert db.exec(select(Invitation)).all() == []


async def test_one_address_invited_at_once_has_one_invitation(client, user_headers, invitations, db):
    answers = await at_once(lambda: client.post(invitations, json={"email": BOB}, headers=user_headers))
    # PostgreSQL has them take turns, each replacing the one before; SQLite may refuse the losers.
    assert set(statuses(answers)) <= {201, 409}, [r.text for r in answers]
    assert 201 in statuses(answers)
    assert {r.json()["code"] for r in answers if r.status_code == 409} <= {"conflict"}
    assert [row.email for row in db.exec(select(Invitation)).all()] == [BOB]


async def test_one_invitation_revoked_at_once_is_gone(client, user_headers, invitations, db):
    r = await client.post(invitations, json={"email": BOB}, headers=user_headers)
    url = f"{invitations}/{uuid.UUID(r.json()['id'])}"
    answers = await at_once(lambda: client.delete(url, headers=user_headers))
    assert set(statuses(answers)) <= {204, 404}, [r.text for r in answers]
    assert 204 in statuses(answers)
    assert db.exec(select(Invitation)).all() == []
