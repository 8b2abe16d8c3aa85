"""Who the caller is in the organization the path names, for the price of the statement that
loads what the request is about.

A route under `/organizations/{organization_id}/...` reads the caller's membership (its role) in
the same statement as the caller's standing and the row it serves (`in_organization`,
`organization_list`, `require`). Nothing of it is in the access token: a member removed or
demoted is refused on their very next request, with a token that is still valid.

Answers: no such organization, or one the caller is no member of, is 404 in the same words, so
nobody learns which organizations exist; a member whose role lacks the permission, 403. A
superuser, the platform's operator, holds every permission in every organization.

core knows the two tables by name and the columns it reads (the organizations module's models
have them), as it knows the accounts table; what a role grants is the organizations module's
(`modules/organizations/permissions.py`), handed in as a `Grant`.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Protocol

from fastapi import Depends, Query, Request
from sqlalchemy import ColumnElement, Connection, Row, Select, Table, and_, bindparam, select

from core import access, crud
from core.db import metadata
from core.errors import (
    DatabaseUnavailableError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    raises,
)
from core.schemas import ListQuery

ORGANIZATIONS, MEMBERSHIPS = "organizations", "memberships"
# The column that gives a row to an organization, and the path parameter that names one.
ORGANIZATION = crud.ORGANIZATION
# The membership's columns, as the statements label them.
ROLE, FOUND = "caller_role", "organization_found"
NO_ORGANIZATION = "Organization not found"
NOT_ALLOWED = "Your role in this organization does not allow this"


class Grant(Protocol):
    """A permission: whether a role holds it (`modules.organizations.permissions.Permission`)."""

    def granted_to(self, role: str) -> bool: ...


@dataclass(frozen=True)
class Member:
    """The caller in one organization: its role there, None for a superuser who is no member."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: str | None
    is_superuser: bool


def memberships() -> Table:
    return metadata().tables[MEMBERSHIPS]


def joined(accounts: Table) -> tuple[Any, list[ColumnElement[Any]]]:
    """The accounts table joined to the caller's membership in the :organization and to that
    organization itself (for a superuser, who may be no member), and the columns they add. Both
    joins are lookups by primary or unique key."""
    members, organizations = memberships(), metadata().tables[ORGANIZATIONS]
    selectable = accounts.outerjoin(
        members,
        and_(members.c.user_id == accounts.c.id, members.c.organization_id == bindparam("organization")),
    ).outerjoin(organizations, organizations.c.id == bindparam("organization"))
    return selectable, [members.c.role.label(ROLE), organizations.c.id.label(FOUND)]


def check_member(
    row: Row[Any] | None, claims: access.Claims, organization: uuid.UUID, grant: Grant
) -> Member:
    """The caller's membership from a row of `joined`'s columns beside `access.standing`'s: 401 for
    a caller not in good standing, 404 for an organization that is missing or not theirs, 403 for
    a role without `grant`."""
    superuser = access.check_standing(row, claims)
    assert row is not None
    values = row._mapping
    role = values[ROLE]
    if values[FOUND] is None or (role is None and not superuser):
        raise NotFoundError(NO_ORGANIZATION)
    if not superuser and not grant.granted_to(role):
        raise ForbiddenError(NOT_ALLOWED)
    return Member(organization, claims.user_id, role, superuser)


@cache
def membership_of_caller() -> Select[Any]:
    """The :caller's standing and membership in the :organization, alone."""
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
        parameters = {"caller": claims.user_id, "organization": organization_id}
        found = await access.read(request, membership_of_caller(), parameters)
        return check_member(found, claims, organization_id, grant)

    return Depends(load)


class _Anyone:
    """Every role: being a member is enough (to read the organization, to leave it)."""

    def granted_to(self, role: str) -> bool:
        return True


ANY_ROLE: Grant = _Anyone()
AnyMember = Annotated[Member, require(ANY_ROLE)]


@cache
def _with_member(model: type[crud.Row]) -> Select[Any]:
    """The row named by :row_id in the :organization (or none) beside the :caller's standing and
    membership there (`joined`)."""
    table = crud.table_of(model)
    accounts = access.accounts()
    selectable, membership = joined(accounts)
    in_the_organization = and_(
        table.c.id == bindparam("row_id"), table.c[ORGANIZATION] == bindparam("organization")
    )
    return (
        select(*table.c, *access.standing(accounts), *membership)
        .select_from(selectable)
        .outerjoin(table, in_the_organization)
        .where(accounts.c.id == bindparam("caller"))
    )


def in_organization(model: type[crud.Row], grants: Mapping[str, Grant]) -> Any:
    """The row the path names (`/{invoice_id}`) in the organization the path names, for a member
    whose role holds the grant of the request's method (`grants["PATCH"]`); any organization's
    to a superuser. A non-member is answered 404 for the organization, as for a missing one; a
    member without the grant, 403. One statement reads the row, the caller's standing and their
    role (`modules.organizations.api.in_organization` gives the grants)."""
    missing, name = crud._not_found(model), crud._row_id(model)

    async def load(
        request: Request, claims: access.Claims, organization_id: uuid.UUID, **path: uuid.UUID
    ) -> crud.Row:
        parameters = {"row_id": path[name], "caller": claims.user_id, "organization": organization_id}
        found = await access.read(request, _with_member(model), parameters)
        check_member(found, claims, organization_id, grants[request.method])
        assert found is not None
        if found.id is None:
            raise NotFoundError(missing)
        return crud.detached(model, found)

    return crud._dependency(
        model, load, (ORGANIZATION, uuid.UUID), errors=(UnauthorizedError, ForbiddenError)
    )


def organization_list(
    model: type[crud.Row], query_type: type[ListQuery], grant: Grant, *, search: Any = None
) -> Any:
    """A page of the organization's rows that the path names, for a member whose role holds
    `grant` (any organization's to a superuser), read as `owned_list` reads: the caller's standing
    and role, the count and the page on one connection."""

    async def load(
        request: Request, claims: access.Claims, organization_id: uuid.UUID, query: ListQuery
    ) -> crud.Listed:
        def work(connection: Connection) -> crud.Listed:
            parameters = {"caller": claims.user_id, "organization": organization_id}
            found = connection.execute(membership_of_caller(), parameters).first()
            check_member(found, claims, organization_id, grant)
            rows, total = crud._page(
                connection, model, query, scope={ORGANIZATION: organization_id}, search=search
            )
            return crud.Listed(rows, total, query)

        return await access.on_connection(request, work)

    parameters = {ORGANIZATION: uuid.UUID, "query": Annotated[query_type, Query()]}
    return crud._depends(load, parameters, UnauthorizedError, NotFoundError, ForbiddenError)
