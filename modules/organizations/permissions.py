"""Roles and what each may do, as code: the one place to read or change who may do what.

Every role is a fixed set of permissions; `make modules` draws them into the matrix of
permissions.md (`reference.py`), and a test calls every route as each role. To add a
permission: add a member here with a docstring saying what it allows, give it to the roles that
hold it, and `require(Permission.YOURS)` in the route that needs it. Generation imports this
file in a Python without the service's dependencies: it imports nothing but `enum`.
"""

from enum import StrEnum


class Role(StrEnum):
    # Strongest first: a role may grant (invite with, promote to) only itself and those after it.
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    def outranks(self, other: "Role") -> bool:
        return _RANK[self] < _RANK[other]


_RANK = {role: rank for rank, role in enumerate(Role)}


class Permission(StrEnum):
    ORGANIZATION_MANAGE = "organization.manage"
    """Rename or delete the organization."""
    MEMBERS_MANAGE = "members.manage"
    """Change a member's role, remove a member."""
    MEMBERS_INVITE = "members.invite"
    """Invite, list and revoke invitations."""
    # What a route of an organization's rows asks for, by its method (`api.in_organization`).
    READ = "read"
    """Read the organization's rows (GET)."""
    WRITE = "write"
    """Create and change them (POST, PUT, PATCH)."""
    DELETE = "delete"
    """Delete them (DELETE)."""

    def granted_to(self, role: str) -> bool:
        return self in ROLES[Role(role)]


ROLES: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - {Permission.ORGANIZATION_MANAGE},
    Role.MEMBER: frozenset({Permission.READ, Permission.WRITE}),
    Role.VIEWER: frozenset({Permission.READ}),
}
