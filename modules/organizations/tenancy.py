"""Who the caller is in the organization the path names, for the price of the statement that
loads what the request is about.

A route under `/organizations/{organization_id}/...` reads the caller's membership (its role) in
the same statement as the caller's standing and the row it serves: the organizations' scope
(`in_organization`, a `core.crud.Scope`) joins it to the accounts table, and `require` reads it
alone. Nothing of it is in the access token: a member removed or demoted is refused on their
very next request, with a token that is still valid.

Answers: no such organization, or one the caller is no member of, is 404 in the same words, so
nobody learns which organizations exist; a member whose role lacks the permission, 403. A
superuser, the platform's operator, holds every permission in every organization.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, Row, Select, Table, and_, bindparam, select

from core import access, crud
from core.errors import (
    DatabaseUnavailableError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    raises,
)
from modules.organizations.models import Membership, Organization

# The column that gives a row to an organization, and the path parameter that names one.
ORGANIZATION = "organization_id"
# The membership's columns, as the statements label them.
ROLE, FOUND = "caller_role", "organization_found"
NO_ORGANIZATION = "Organization not found"
NOT_ALLOWED = "Your role in this organization does not allow this"


class Grant(Protocol):
    """A permission: whether a role holds it (`permissions.Permission`)."""

    def granted_to(self, role: str) -> bool: ...


@dataclass(frozen=True)
class Member:
    """The caller in one organization: its role there, None for a superuser who is no member."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: str | None
    is_superuser: bool


def joined(accounts: Table) -> tuple[Any, list[ColumnElement[Any]]]:
    """The accounts table joined to the caller's membership in the organization (the scope's
    bound value) and to that organization itself (for a superuser, who may be no member), and
    the columns they add. Both joins are lookups by primary or unique key."""
    members, organizations = crud.table_of(Membership), crud.table_of(Organization)
    organization: Any = bindparam(crud.SCOPE_VALUE)
    selectable = accounts.outerjoin(
        members, and_(members.c.user_id == accounts.c.id, members.c[ORGANIZATION] == organization)
    ).outerjoin(organizations, organizations.c.id == organization)
    return selectable, [members.c.role.label(ROLE), organizations.c.id.label(FOUND)]


def check_member(row: Row[Any], superuser: bool, organization: uuid.UUID, grant: Grant) -> None:
    """From a row of `joined`'s columns (the caller's standing already checked): 404 for an
    organization that is missing or not the caller's, 403 for a role without `grant`."""
    values = row._mapping
    role = values[ROLE]
    if values[FOUND] is None or (role is None and not superuser):
        raise NotFoundError(NO_ORGANIZATION)
    if not superuser and not grant.granted_to(role):
        raise ForbiddenError(NOT_ALLOWED)


def in_organization(grants: Mapping[str, Grant]) -> crud.Scope:
    """The rows of the organization the path names, for a member whose role holds the grant of
    the request's method (`grants["PATCH"]`); any organization's to a superuser, but only that
    organization's rows all the same."""

    def check(row: Row[Any], superuser: bool, organization: uuid.UUID, method: str) -> bool:
        check_member(row, superuser, organization, grants[method])
        return False

    return crud.Scope(
        column=ORGANIZATION,
        check=check,
        parameter=ORGANIZATION,
        join=joined,
        errors=(UnauthorizedError, NotFoundError, ForbiddenError),
    )


@cache
def membership_of_caller() -> Select[Any]:
    """The :caller's standing and membership in the organization, alone."""
    accounts = access.accounts()
    selectable, columns = joined(accounts)
    return (
        select(*access.standing(accounts), *columns)
        .select_from(selectable)
        .where(accounts.c.id == bindparam("caller"))
    )


def require(grant: Grant) -> Any:
    """`Writer = Annotated[Member, require(Permission.WRITE)]`: the caller's membership in the
    organization the path names, holding `grant`. One statement, with the caller's standing."""

    @raises(UnauthorizedError, NotFoundError, ForbiddenError, DatabaseUnavailableError)
    async def load(organization_id: uuid.UUID, claims: access.AccessClaims, request: Request) -> Member:
        parameters = {"caller": claims.user_id, crud.SCOPE_VALUE: organization_id}
        found = await access.read(request, membership_of_caller(), parameters)
        superuser = access.check_standing(found, claims)
        assert found is not None
        check_member(found, superuser, organization_id, grant)
        return Member(organization_id, claims.user_id, found._mapping[ROLE], superuser)

    return Depends(load)


class _Anyone:
    """Every role: being a member is enough (to read the organization, to leave it)."""

    def granted_to(self, role: str) -> bool:
        return True


ANY_ROLE: Grant = _Anyone()
AnyMember = Annotated[Member, require(ANY_ROLE)]
