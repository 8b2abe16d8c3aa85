"""Organizations over HTTP: creating, listing, renaming and deleting them, leaving them, and the
rules on roles that no permission lifts (an owner always kept, nobody granting above themselves)."""

import json
import uuid

import pytest
from sqlmodel import select

from core.schemas import MAX_OFFSET
from modules.organizations.models import Invitation, Membership, Organization
from modules.organizations.service import ABOVE_YOURS, LAST_OWNER, NO_MEMBER, OWNERS_ONLY
from tests.helpers import PASSWORD, delete_row
from tests.organizations.helpers import URL, add_member, role_of

LAST_OWNER_ERROR = {"detail": LAST_OWNER, "code": "conflict"}
ABOVE_YOURS_ERROR = {"detail": ABOVE_YOURS, "code": "forbidden"}
OWNERS_ONLY_ERROR = {"detail": OWNERS_ONLY, "code": "forbidden"}


async def create(client, headers, name="Acme"):
    r = await client.post(URL, json={"name": name}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_creator_is_the_first_owner(client, user_headers, user, db):
    created = await create(client, user_headers)
    assert set(created) == {"id", "name", "created_at", "role"}
    assert (created["name"], created["role"]) == ("Acme", "owner")
    assert role_of(db, created, user.id) == "owner"
    r = await client.get(f"{URL}/{created['id']}/members", headers=user_headers)
    assert r.status_code == 200, r.text
    [me] = r.json()["items"]
    assert (me["user_id"], me["email"], me["full_name"], me["role"]) == (
        str(user.id),
        user.email,
        "Alice",
        "owner",
    )


async def test_a_new_account_belongs_to_no_organization(client, db):
    """Registration makes no personal organization: the first step is to create one or accept an
    invitation."""
    r = await client.post("/api/v1/auth/register", json={"email": "new@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    login = {"username": "new@example.com", "password": PASSWORD}
    token = (await client.post("/api/v1/auth/login", data=login)).json()["access_token"]
    r = await client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert (r.status_code, r.json()["items"], r.json()["total"]) == (200, [], 0)
    assert db.exec(select(Organization)).all() == []
    assert db.exec(select(Membership)).all() == []


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": None}, {"name": 123}, {"name": "a\x00b"}],
    ids=["missing", "empty", "too-long", "null", "number", "nul"],
)
async def test_creating_with_a_bad_name_is_422(client, user_headers, db, body):
    r = await client.post(URL, json=body, headers=user_headers)
    assert r.status_code == 422, r.text
    assert db.exec(select(Organization)).all() == []


@pytest.mark.parametrize("field", ["id", "role", "owner_id", "created_at"])
async def test_creating_refuses_fields_the_client_does_not_set(client, user_headers, field):
    body = {"name": "Acme", field: "00000000-0000-4000-8000-000000000000"}
    r = await client.post(URL, json=body, headers=user_headers)
    assert r.status_code == 422, r.text


async def test_anonymous_callers_are_refused(client):
    assert (await client.post(URL, json={"name": "Acme"})).status_code == 401
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(f"{URL}/{uuid.uuid4()}")).status_code == 401


async def test_the_list_shows_only_my_organizations_newest_first_paged(
    client, user_headers, make_user, headers_for
):
    first = await create(client, user_headers, "First")
    second = await create(client, user_headers, "Second")
    await create(client, headers_for(make_user()), "Someone else's")
    r = await client.get(URL, headers=user_headers)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 2
    assert [(o["id"], o["role"]) for o in r.json()["items"]] == [
        (second["id"], "owner"),
        (first["id"], "owner"),
    ]
    pages = [
        (await client.get(URL, params={"limit": 1, "offset": n}, headers=user_headers)).json()
        for n in (0, 1, 2)
    ]
    assert [[o["id"] for o in page["items"]] for page in pages] == [[second["id"]], [first["id"]], []]
    assert {(page["total"], page["limit"]) for page in pages} == {(2, 1)}
    assert [page["offset"] for page in pages] == [0, 1, 2]


async def test_the_list_shows_my_role_in_each(client, user_headers, user, db, make_user, headers_for):
    theirs = await create(client, headers_for(make_user()), "Theirs")
    add_member(db, uuid.UUID(theirs["id"]), user.id, "viewer")
    r = await client.get(URL, headers=user_headers)
    assert [(o["id"], o["role"]) for o in r.json()["items"]] == [(theirs["id"], "viewer")]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}])
async def test_the_list_refuses_pages_out_of_bounds(client, user_headers, params):
    r = await client.get(URL, params=params, headers=user_headers)
    assert r.status_code == 422, r.text


async def test_a_superuser_lists_every_organization_as_no_member(client, user_headers, superuser_headers):
    created = await create(client, user_headers)
    r = await client.get(URL, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert [(o["id"], o["role"]) for o in r.json()["items"]] == [(created["id"], None)]
    assert r.json()["total"] == 1


async def test_rename(client, user_headers, organization):
    url = f"{URL}/{organization['id']}"
    r = await client.patch(url, json={"name": "Renamed"}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["role"]) == ("Renamed", "owner")
    assert (await client.get(url, headers=user_headers)).json()["name"] == "Renamed"


@pytest.mark.parametrize("body", [{}, {"name": None}], ids=["nothing", "null"])
async def test_rename_without_a_name_leaves_it(client, user_headers, organization, body):
    url = f"{URL}/{organization['id']}"
    r = await client.patch(url, json=body, headers=user_headers)
    assert r.status_code == 200, r.text
    assert (await client.get(url, headers=user_headers)).json()["name"] == "Acme"


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "x" * 201}, {"id": str(uuid.uuid4())}])
async def test_rename_with_a_bad_body_is_422(client, user_headers, organization, body):
    url = f"{URL}/{organization['id']}"
    r = await client.patch(url, json=body, headers=user_headers)
    assert r.status_code == 422, r.text
    assert (await client.get(url, headers=user_headers)).json() == {**organization}


async def test_deleting_an_organization_deletes_its_memberships_and_invitations_only(
    client, user_headers, organization, member_of, db
):
    kept = await create(client, user_headers, "Kept")
    member_of("viewer")
    for target in (organization, kept):
        r = await client.post(
            f"{URL}/{target['id']}/invitations", json={"email": "bob@example.com"}, headers=user_headers
        )
        assert r.status_code == 201, r.text
    r = await client.delete(f"{URL}/{organization['id']}", headers=user_headers)
    assert r.status_code == 204, r.text
    assert (await client.get(f"{URL}/{organization['id']}", headers=user_headers)).status_code == 404
    db.expire_all()
    assert [str(o.id) for o in db.exec(select(Organization)).all()] == [kept["id"]]
    assert {str(m.organization_id) for m in db.exec(select(Membership)).all()} == {kept["id"]}
    assert [str(i.organization_id) for i in db.exec(select(Invitation)).all()] == [kept["id"]]


async def test_the_last_owner_cannot_leave(client, user_headers, user, organization, db):
    r = await client.delete(f"{URL}/{organization['id']}/members/{user.id}", headers=user_headers)
    assert (r.status_code, r.json()) == (409, LAST_OWNER_ERROR)
    assert role_of(db, organization, user.id) == "owner"


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
async def test_the_last_owner_cannot_be_demoted(client, user_headers, user, organization, db, role):
    url = f"{URL}/{organization['id']}/members/{user.id}"
    r = await client.patch(url, json={"role": role}, headers=user_headers)
    assert (r.status_code, r.json()) == (409, LAST_OWNER_ERROR)
    assert role_of(db, organization, user.id) == "owner"


async def test_the_last_owner_cannot_be_removed_by_a_superuser_either(
    client, superuser_headers, user, organization, db
):
    url = f"{URL}/{organization['id']}/members/{user.id}"
    r = await client.patch(url, json={"role": "admin"}, headers=superuser_headers)
    assert (r.status_code, r.json()) == (409, LAST_OWNER_ERROR)
    r = await client.delete(url, headers=superuser_headers)
    assert (r.status_code, r.json()) == (409, LAST_OWNER_ERROR)
    assert role_of(db, organization, user.id) == "owner"


async def test_an_owner_leaves_once_another_owner_is_there(
    client, user_headers, user, organization, member_of, db
):
    other, _ = member_of("owner")
    r = await client.delete(f"{URL}/{organization['id']}/members/{user.id}", headers=user_headers)
    assert r.status_code == 204, r.text
    assert role_of(db, organization, user.id) is None
    assert role_of(db, organization, other.id) == "owner"
    assert (await client.get(f"{URL}/{organization['id']}", headers=user_headers)).status_code == 404


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
async def test_any_member_leaves(client, organization, member_of, db, role):
    leaving, headers = member_of(role)
    r = await client.delete(f"{URL}/{organization['id']}/members/{leaving.id}", headers=headers)
    assert r.status_code == 204, r.text
    assert role_of(db, organization, leaving.id) is None


@pytest.mark.parametrize(("caller", "target"), [("member", "viewer"), ("viewer", "member")])
async def test_a_member_without_members_manage_removes_nobody_else(
    client, organization, member_of, db, caller, target
):
    _, headers = member_of(caller)
    other, _ = member_of(target)
    r = await client.delete(f"{URL}/{organization['id']}/members/{other.id}", headers=headers)
    assert r.status_code == 403, r.text
    assert role_of(db, organization, other.id) == target


async def test_an_admin_cannot_make_anyone_owner(client, organization, member_of, db):
    admin, headers = member_of("admin")
    member, _ = member_of("member")
    for target in (admin, member):
        url = f"{URL}/{organization['id']}/members/{target.id}"
        r = await client.patch(url, json={"role": "owner"}, headers=headers)
        assert (r.status_code, r.json()) == (403, ABOVE_YOURS_ERROR)
    assert (role_of(db, organization, admin.id), role_of(db, organization, member.id)) == ("admin", "member")


async def test_an_admin_cannot_change_or_remove_an_owner(client, user, organization, member_of, db):
    _, headers = member_of("admin")
    url = f"{URL}/{organization['id']}/members/{user.id}"
    r = await client.patch(url, json={"role": "admin"}, headers=headers)
    assert (r.status_code, r.json()) == (403, OWNERS_ONLY_ERROR)
    r = await client.delete(url, headers=headers)
    assert (r.status_code, r.json()) == (403, OWNERS_ONLY_ERROR)
    assert role_of(db, organization, user.id) == "owner"


@pytest.mark.parametrize(("start", "end"), [("viewer", "admin"), ("member", "viewer"), ("admin", "member")])
async def test_an_admin_changes_roles_up_to_their_own(client, organization, member_of, db, start, end):
    _, headers = member_of("admin")
    target, _ = member_of(start)
    r = await client.patch(
        f"{URL}/{organization['id']}/members/{target.id}", json={"role": end}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["user_id"], r.json()["role"]) == (str(target.id), end)
    assert role_of(db, organization, target.id) == end


async def test_an_admin_removes_a_member(client, organization, member_of, db):
    _, headers = member_of("admin")
    target, _ = member_of("member")
    r = await client.delete(f"{URL}/{organization['id']}/members/{target.id}", headers=headers)
    assert r.status_code == 204, r.text
    assert role_of(db, organization, target.id) is None


async def test_an_owner_makes_another_owner_then_demotes_them(
    client, user_headers, organization, member_of, db
):
    target, _ = member_of("member")
    url = f"{URL}/{organization['id']}/members/{target.id}"
    r = await client.patch(url, json={"role": "owner"}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert role_of(db, organization, target.id) == "owner"
    r = await client.patch(url, json={"role": "viewer"}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert role_of(db, organization, target.id) == "viewer"


async def test_an_owner_removes_another_owner(client, user_headers, organization, member_of, db):
    target, _ = member_of("owner")
    r = await client.delete(f"{URL}/{organization['id']}/members/{target.id}", headers=user_headers)
    assert r.status_code == 204, r.text
    assert role_of(db, organization, target.id) is None


async def test_a_member_listed_in_the_order_they_joined_paged(
    client, user_headers, user, organization, member_of
):
    second, _ = member_of("viewer")
    third, _ = member_of("member")
    url = f"{URL}/{organization['id']}/members"
    r = await client.get(url, headers=user_headers)
    assert [m["user_id"] for m in r.json()["items"]] == [str(u.id) for u in (user, second, third)]
    assert [m["role"] for m in r.json()["items"]] == ["owner", "viewer", "member"]
    r = await client.get(url, params={"limit": 1, "offset": 1}, headers=user_headers)
    assert (r.json()["total"], [m["user_id"] for m in r.json()["items"]]) == (3, [str(second.id)])


async def test_changing_or_removing_someone_who_is_no_member_is_404(
    client, user_headers, organization, make_user
):
    for nobody in (make_user().id, uuid.uuid4()):
        url = f"{URL}/{organization['id']}/members/{nobody}"
        r = await client.patch(url, json={"role": "viewer"}, headers=user_headers)
        assert (r.status_code, r.json()) == (404, {"detail": NO_MEMBER, "code": "not_found"})
        r = await client.delete(url, headers=user_headers)
        assert (r.status_code, r.json()) == (404, {"detail": NO_MEMBER, "code": "not_found"})


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/not-a-uuid", None),
        ("PATCH", "/{org}", {"name": ["a list"]}),
        ("PATCH", "/{org}/members/not-a-uuid", {"role": "viewer"}),
        ("PATCH", "/{org}/members/{user}", {"role": "superuser"}),
        ("PATCH", "/{org}/members/{user}", {"role": None}),
        ("PATCH", "/{org}/members/{user}", {}),
        ("DELETE", "/{org}/members/12345", None),
        ("POST", "/{org}/invitations", {"email": "not an address"}),
        ("POST", "/{org}/invitations", {"email": "bob@example.com", "role": "god"}),
        ("POST", "/{org}/invitations", {"email": "bob@example.com", "organization_id": str(uuid.uuid4())}),
        ("DELETE", "/{org}/invitations/not-a-uuid", None),
        ("GET", "/{org}/invitations?limit=0", None),
        ("GET", "/{org}/members?offset=-1", None),
        ("POST", "/invitations/accept", {}),
        ("POST", "/invitations/accept", {"token": ""}),
        ("POST", "/invitations/accept", {"token": "x" * 2001}),
        ("POST", "/invitations/accept", {"token": "a\x00b"}),
        ("POST", "", {"name": "a\ud800b"}),
        ("PATCH", "/{org}", {"name": "a\ud800b"}),
        ("POST", "/{org}/invitations", {"email": "bob\x00@example.com"}),
        ("GET", f"?offset={MAX_OFFSET + 1}", None),
    ],
)
async def test_bad_input_is_422(client, user_headers, user, organization, method, path, body):
    url = URL + path.format(org=organization["id"], user=user.id)
    # `json.dumps` escapes a lone surrogate, which httpx's own encoder cannot carry.
    content = None if body is None else json.dumps(body)
    json_headers = {**user_headers, "Content-Type": "application/json"}
    r = await client.request(method, url, content=content, headers=json_headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"


async def test_a_deleted_last_owners_organization_is_handed_over_by_a_superuser(
    client, user, organization, member_of, db, superuser_headers
):
    """Deleting an account takes its memberships: the organization keeps its other members, and
    the platform's operator makes one of them owner."""
    admin, headers = member_of("admin")
    delete_row(db, "users", user.id)  # as the users module does
    url = f"{URL}/{organization['id']}/members/{admin.id}"
    assert (await client.patch(url, json={"role": "owner"}, headers=headers)).status_code == 403
    r = await client.patch(url, json={"role": "owner"}, headers=superuser_headers)
    assert r.status_code == 200, r.text
    assert role_of(db, organization, admin.id) == "owner"
