"""Roles and what each may do, as code: the one place to read or change who may do what.

Every role is a fixed set of permissions; the README's matrix shows them, and a test checks
every cell of it against the routes. To add a permission: add a member here, give it to the
roles that hold it, and `require(Permission.YOURS)` in the route that needs it.
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
    ORGANIZATION_MANAGE = "organization.manage"  # rename or delete the organization
    MEMBERS_MANAGE = "members.manage"  # change a member's role, remove a member
    MEMBERS_INVITE = "members.invite"  # invite, list and revoke invitations
    # What a route of an organization's rows asks for, by its method (`api.in_organization`).
    READ = "read"
    WRITE = "write"
    DELETE = "delete"

    def granted_to(self, role: str) -> bool:
        return self in ROLES[Role(role)]


ROLES: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - {Permission.ORGANIZATION_MANAGE},
    Role.MEMBER: frozenset({Permission.READ, Permission.WRITE}),
    Role.VIEWER: frozenset({Permission.READ}),
}
