"""A member's role counts from the very next request, whatever their token says; and nothing
answered about an organization tells a non-member whether it exists."""

import uuid

import pytest

from modules.organizations.tenancy import NO_ORGANIZATION
from tests.helpers import delete_row, insert_row
from tests.organizations.helpers import URL, add_member

NOT_FOUND = {"detail": NO_ORGANIZATION, "code": "not_found"}


@pytest.fixture
def bob(make_user):
    return make_user("bob@example.com")


@pytest.fixture
def bob_headers(bob, headers_for):
    return headers_for(bob)


async def test_a_removed_member_is_refused_on_the_next_request(
    client, user_headers, organization, db, bob, bob_headers
):
    add_member(db, uuid.UUID(organization["id"]), bob.id, "admin")
    url = f"{URL}/{organization['id']}"
    assert (await client.get(url, headers=bob_headers)).status_code == 200
    r = await client.delete(f"{url}/members/{bob.id}", headers=user_headers)
    assert r.status_code == 204, r.text
    for method, path in [
        ("GET", ""),
        ("GET", "/members"),
        ("GET", "/invitations"),
        ("DELETE", f"/members/{bob.id}"),
    ]:
        r = await client.request(method, url + path, headers=bob_headers)
        assert (r.status_code, r.json()) == (404, NOT_FOUND), (method, path)
    # Their token is still good: only the membership went.
    assert (await client.get("/api/v1/users/me", headers=bob_headers)).status_code == 200
    assert (await client.get(URL, headers=bob_headers)).json()["items"] == []


async def test_a_demoted_member_is_refused_on_the_next_write(
    client, user_headers, organization, db, bob, bob_headers
):
    add_member(db, uuid.UUID(organization["id"]), bob.id, "admin")
    invitations = f"{URL}/{organization['id']}/invitations"
    r = await client.post(invitations, json={"email": "carol@example.com"}, headers=bob_headers)
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"{URL}/{organization['id']}/members/{bob.id}", json={"role": "viewer"}, headers=user_headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(invitations, json={"email": "dave@example.com"}, headers=bob_headers)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert (await client.get(invitations, headers=bob_headers)).status_code == 403
    r = await client.get(f"{URL}/{organization['id']}", headers=bob_headers)
    assert (r.status_code, r.json()["role"]) == (200, "viewer")


async def test_a_promoted_member_is_allowed_on_the_next_request(
    client, user_headers, organization, db, bob, bob_headers
):
    add_member(db, uuid.UUID(organization["id"]), bob.id, "viewer")
    url = f"{URL}/{organization['id']}"
    assert (await client.patch(url, json={"name": "Bob's"}, headers=bob_headers)).status_code == 403
    r = await client.patch(f"{url}/members/{bob.id}", json={"role": "owner"}, headers=user_headers)
    assert r.status_code == 200, r.text
    r = await client.patch(url, json={"name": "Bob's"}, headers=bob_headers)
    assert (r.status_code, r.json()["name"]) == (200, "Bob's")


async def test_organization_ids_are_random_uuids(client, user_headers):
    ids = []
    for n in range(5):
        r = await client.post(URL, json={"name": f"Org {n}"}, headers=user_headers)
        ids.append(uuid.UUID(r.json()["id"]))
    assert {(i.version, i.variant) for i in ids} == {(4, uuid.RFC_4122)}
    # Nothing to count up from: no two share their first 32 bits, as sequential or time-ordered
    # ids made within the same second would.
    assert len({i.hex[:8] for i in ids}) == len(ids)


# Every route under an organization, with ids of things in it where the path names some.
ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"name": "Mine now"}),
    ("DELETE", "", None),
    ("GET", "/members", None),
    ("PATCH", "/members/{member}", {"role": "viewer"}),
    ("DELETE", "/members/{member}", None),
    ("POST", "/invitations", {"email": "eve@example.com"}),
    ("GET", "/invitations", None),
    ("DELETE", "/invitations/{invitation}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_another_organization_is_answered_as_a_missing_one(
    client, db, user, organization, bob_headers, method, path, body
):
    """Bob probes: Acme exists (he is no member), another id was never used, a third is deleted."""
    invitation = insert_row(db, "invitations", organization_id=uuid.UUID(organization["id"]), role="member")
    deleted = insert_row(db, "organizations", name="Gone")
    delete_row(db, "organizations", deleted)
    ids = {"member": user.id, "invitation": invitation}
    answers = []
    for organization_id in (organization["id"], uuid.uuid4(), deleted):
        url = f"{URL}/{organization_id}" + path.format(**ids)
        r = await client.request(method, url, json=body, headers=bob_headers)
        answers.append((r.status_code, r.json(), r.headers["content-length"]))
    assert answers == [(404, NOT_FOUND, answers[0][2])] * 3
