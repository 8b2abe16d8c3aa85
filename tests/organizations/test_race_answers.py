"""Requests that change the same organization at the same moment, many rounds over: each is
answered as if it had come first or second (a 404 for what the other deleted, a 409 for what it
made impossible), never with a 5xx, and what they leave behind is consistent."""

import asyncio
import uuid
from collections import Counter

import pytest
from sqlmodel import select

from core import crud
from core.errors import ConflictError, NotFoundError
from modules.organizations.models import Membership
from tests.organizations.helpers import ACCEPT, BOB, URL, add_member, add_organization, invitation_token

# Enough to catch an outcome seen in 3% of rounds with odds of 1 in 10 of missing it.
ROUNDS = 75


def organization_of(db, user):
    """A new organization that `user` owns; its URL."""
    organization_id = add_organization(db)
    add_member(db, organization_id, user.id, "owner")
    return f"{URL}/{organization_id}"


async def rounds(play):
    """`play()` ROUNDS times; the statuses of its answers, by position, counted. None is a 5xx."""
    counted = [Counter(), Counter()]
    for _ in range(ROUNDS):
        for position, answer in enumerate(await play()):
            counted[position][answer.status_code] += 1
    assert all(status < 500 for statuses in counted for status in statuses), counted
    return counted


async def test_accepting_while_the_organization_is_deleted(
    client, db, user, user_headers, outbox, bob, bob_headers
):
    async def play():
        organization = organization_of(db, user)
        r = await client.post(f"{organization}/invitations", json={"email": BOB}, headers=user_headers)
        assert r.status_code == 201, r.text
        token = invitation_token(outbox, BOB)
        return await asyncio.gather(
            client.post(ACCEPT, json={"token": token}, headers=bob_headers),
            client.delete(organization, headers=user_headers),
        )

    accepted, deleted = await rounds(play)
    assert set(accepted) <= {200, 400}, accepted
    assert deleted == {204: ROUNDS}, deleted
    # Every organization is gone, and nobody is a member of what is gone.
    assert db.exec(select(Membership).where(Membership.user_id == bob.id)).all() == []


async def test_changing_a_role_while_the_member_is_removed(client, db, user, user_headers, make_user):
    member = make_user()

    async def play():
        organization = organization_of(db, user)
        add_member(db, uuid.UUID(organization.rsplit("/", 1)[1]), member.id, "member")
        url = f"{organization}/members/{member.id}"
        return await asyncio.gather(
            client.patch(url, json={"role": "viewer"}, headers=user_headers),
            client.delete(url, headers=user_headers),
        )

    changed, removed = await rounds(play)
    assert set(changed) <= {200, 404}, changed
    assert removed == {204: ROUNDS}, removed
    assert db.exec(select(Membership).where(Membership.user_id == member.id)).all() == []


async def test_renaming_while_the_organization_is_deleted(client, db, user, user_headers):
    async def play():
        organization = organization_of(db, user)
        return await asyncio.gather(
            client.patch(organization, json={"name": "Renamed"}, headers=user_headers),
            client.delete(organization, headers=user_headers),
        )

    renamed, deleted = await rounds(play)
    assert set(renamed) <= {200, 404}, renamed
    assert deleted == {204: ROUNDS}, deleted


async def test_one_organization_deleted_twice_at_once_is_deleted_once(client, db, user, user_headers):
    async def play():
        organization = organization_of(db, user)
        return await asyncio.gather(*(client.delete(organization, headers=user_headers) for _ in range(2)))

    first, second = await rounds(play)
    assert first + second == {204: ROUNDS, 404: ROUNDS}, (first, second)


def test_a_row_whose_parent_is_gone_is_a_conflict_naming_the_parent(db, user):
    """What `crud.save` answers when the database refuses a row for a foreign key: a row it
    refers to was deleted by another request after the row was checked."""
    orphan = Membership(organization_id=uuid.uuid4(), user_id=user.id, role="member")
    with pytest.raises(ConflictError) as refused:
        crud.save(db, orphan)
    assert (
        refused.value.detail
        == "The organization this membership refers to (organization_id) no longer exists"
    )
    assert db.exec(select(Membership)).all() == []


def test_a_duplicate_is_still_a_conflict_naming_the_value(db, user):
    organization_id = add_organization(db)
    add_member(db, organization_id, user.id, "owner")
    twice = Membership(organization_id=organization_id, user_id=user.id, role="member")
    with pytest.raises(ConflictError) as refused:
        crud.save(db, twice)
    assert refused.value.detail == "Membership with the same user_id already exists"


def test_a_row_deleted_already_is_not_found(db, user):
    organization_id = add_organization(db)
    add_member(db, organization_id, user.id, "owner")
    membership = db.exec(select(Membership)).one()
    crud.delete(db, membership)
    with pytest.raises(NotFoundError) as refused:
        crud.delete(db, membership)
    assert refused.value.detail == "Membership not found"
