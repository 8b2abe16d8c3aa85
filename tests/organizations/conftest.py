"""Fixtures for the organizations tests."""

import uuid

import pytest

from tests.organizations.helpers import BOB, URL, add_member


@pytest.fixture
async def organization(client, user_headers):
    """Acme, which `user` (alice) created through the API, and so owns."""
    r = await client.post(URL, json={"name": "Acme"}, headers=user_headers)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def member_of(db, organization, make_user, headers_for):
    """A new account that is a member of `organization` with the given role: (user, headers)."""

    def make(role):
        member = make_user()
        add_member(db, uuid.UUID(organization["id"]), member.id, role)
        return member, headers_for(member)

    return make


@pytest.fixture
def bob(make_user):
    """Bob, verified: the address the invitation tests invite."""
    return make_user(BOB, is_verified=True)


@pytest.fixture
def bob_headers(bob, headers_for):
    return headers_for(bob)
