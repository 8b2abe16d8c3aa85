"""Who may do what in an organization, cell by cell.

Every route of the organizations module is called by each kind of caller, in their organization
and in another one, and answers as `ROLES` (modules/organizations/permissions.py) says of the
permission it needs: 2xx with it, 403 for a member without it, 404 for anyone who is no member
(as for a missing organization). The matrix of permissions.md is drawn from the same `ROLES`
(`make modules`), described by each permission's docstring."""

import shutil
import uuid
from itertools import pairwise

import pytest

from core.modulith.reference import module_pages
from modules.organizations import reference
from modules.organizations.permissions import ROLES, Permission, Role
from modules.organizations.tenancy import NO_ORGANIZATION
from tests.helpers import ROOT, insert_row
from tests.organizations.helpers import URL, add_member, add_organization

PAGE = "modules/organizations/permissions.md"


def test_every_permission_says_what_it_allows():
    allows = reference.allows()

    assert [permission.name for permission in Permission if not allows.get(permission.name)] == []


def test_each_role_holds_what_the_roles_after_it_hold():
    """Strongest first: no role may do what a stronger one may not."""
    roles = list(Role)
    assert [role for role, weaker in pairwise(roles) if not ROLES[weaker] <= ROLES[role]] == []


def test_the_page_is_drawn_from_the_projects_own_permissions(tmp_path):
    """Generation draws it with another checkout first on `sys.path`: the file beside it counts."""
    shutil.copytree(ROOT / "modules/organizations", tmp_path / "modules/organizations")
    permissions = tmp_path / "modules/organizations/permissions.py"
    permissions.write_text(
        permissions.read_text().replace(
            "Role.VIEWER: frozenset({Permission.READ})",
            "Role.VIEWER: frozenset({Permission.READ, Permission.DELETE})",
        )
    )

    drawn, ours = module_pages(tmp_path)[PAGE], (ROOT / PAGE).read_text()

    assert "| `delete` | Delete them (DELETE). | ✓ | ✓ |  | ✓ |" in drawn
    assert "| `delete` | Delete them (DELETE). | ✓ | ✓ |  |  |" in ours


# Every route of the module that names an organization: its method, path, body, the permission it
# needs (None: being a member is enough) and what it answers when allowed. The targets are a
# viewer and a pending invitation of the organization called, made for the test.
ROUTES = {
    "read": ("GET", "", None, None, 200),
    "rename": ("PATCH", "", {"name": "Renamed"}, Permission.ORGANIZATION_MANAGE, 200),
    "delete": ("DELETE", "", None, Permission.ORGANIZATION_MANAGE, 204),
    "list-members": ("GET", "/members", None, None, 200),
    "change-role": ("PATCH", "/members/{target}", {"role": "member"}, Permission.MEMBERS_MANAGE, 200),
    "remove-member": ("DELETE", "/members/{target}", None, Permission.MEMBERS_MANAGE, 204),
    "invite": (
        "POST",
        "/invitations",
        {"email": "new@example.com", "role": "viewer"},
        Permission.MEMBERS_INVITE,
        201,
    ),
    "list-invitations": ("GET", "/invitations", None, Permission.MEMBERS_INVITE, 200),
    "revoke-invitation": ("DELETE", "/invitations/{invitation}", None, Permission.MEMBERS_INVITE, 204),
}
# A's owner, admin, member and viewer; someone in no organization but B (its owner); a superuser.
CALLERS = [*Role, "stranger", "superuser"]


def role_in(caller: str, organization: str) -> str | None:
    """The caller's role in organization "A" or "B"."""
    if caller == "stranger":
        return Role.OWNER if organization == "B" else None
    return caller if organization == "A" and caller != "superuser" else None


def expected(route: str, caller: str, organization: str) -> int:
    _, _, _, permission, allowed = ROUTES[route]
    role = role_in(caller, organization)
    if caller == "superuser":
        return allowed
    if role is None:
        return 404
    return allowed if permission is None or permission.granted_to(role) else 403


@pytest.fixture
def world(db, make_user, headers_for):
    """Organizations A and B, each with a viewer and a pending invitation to act on, and a
    function giving the headers of a caller of CALLERS."""
    organizations = {}
    for name in ("A", "B"):
        organization = add_organization(db, name)
        target = make_user()
        add_member(db, organization, target.id, Role.VIEWER)
        invitation = insert_row(
            db, "invitations", organization_id=organization, email=f"{name}@example.com", role="member"
        )
        organizations[name] = {"id": organization, "target": target.id, "invitation": invitation}

    def caller(kind: str) -> dict[str, str]:
        account = make_user(is_superuser=kind == "superuser")
        if kind == "stranger":
            add_member(db, organizations["B"]["id"], account.id, Role.OWNER)
        elif kind != "superuser":
            add_member(db, organizations["A"]["id"], account.id, kind)
        return headers_for(account)

    return organizations, caller


@pytest.mark.parametrize("organization", ["A", "B"])
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES)
async def test_each_route_answers_each_caller_as_their_role_allows(
    client, world, route, caller, organization
):
    organizations, headers_of = world
    method, path, body, _, _ = ROUTES[route]
    called = organizations[organization]
    url = f"{URL}/{called['id']}" + path.format(**called)
    r = await client.request(method, url, json=body, headers=headers_of(caller))
    status = expected(route, caller, organization)
    assert r.status_code == status, r.text
    if status == 404:
        assert r.json() == {"detail": NO_ORGANIZATION, "code": "not_found"}
    elif status == 403:
        assert r.json()["code"] == "forbidden"


@pytest.mark.parametrize("caller", CALLERS)
async def test_the_list_of_organizations_shows_the_callers_own(client, world, caller):
    organizations, headers_of = world
    r = await client.get(URL, headers=headers_of(caller))
    assert r.status_code == 200, r.text
    listed = {(uuid.UUID(o["id"]), o["role"]) for o in r.json()["items"]}
    expected = {
        (organizations[name]["id"], role_in(caller, name))
        for name in ("A", "B")
        if caller == "superuser" or role_in(caller, name) is not None
    }
    assert listed == expected
    assert r.json()["total"] == len(expected)
