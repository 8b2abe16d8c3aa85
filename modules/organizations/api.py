"""What other modules may use of the organizations module; the rest of the folder is its own.

An entity owned by an organization takes its row and its list from here, the permission each
route needs following its method (GET reads, POST/PUT/PATCH write, DELETE deletes), and
`Writer` for a create. The checks themselves are `tenancy.py`'s, a scope of `core.crud`: one
statement per request.
"""

from typing import Annotated, Any

from core import crud
from core.schemas import ListQuery
from modules.organizations import tenancy
from modules.organizations.permissions import Permission, Role
from modules.organizations.tenancy import Member, require

# The path an organization's rows are mounted under: `Manifest(mounted_under=IN_ORGANIZATION)` in a
# manifest.py (core.manifest) serves `/organizations/{organization_id}/invoices`.
IN_ORGANIZATION = "/organizations/{organization_id}"

BY_METHOD = {
    "GET": Permission.READ,
    "HEAD": Permission.READ,
    "POST": Permission.WRITE,
    "PUT": Permission.WRITE,
    "PATCH": Permission.WRITE,
    "DELETE": Permission.DELETE,
}
# The rows of the organization the path names, for a member whose role allows the method.
IN_ITS_ORGANIZATION = tenancy.in_organization(BY_METHOD)


def in_organization(model: type[crud.Row]) -> Any:
    """`InvoiceInOrganization = Annotated[Invoice, in_organization(Invoice)]`: the row the path
    names in the organization the path names, for a member whose role allows the method."""
    return crud.scoped(model, IN_ITS_ORGANIZATION)


def organization_list(model: type[crud.Row], query: type[ListQuery], *, search: Any = None) -> Any:
    """`InvoiceList = Annotated[crud.Listed, organization_list(Invoice, InvoiceQuery, ...)]`: a
    page of the organization's rows, for a member who may read them."""
    return crud.scoped_list(model, query, IN_ITS_ORGANIZATION, search=search)


# The caller in the organization the path names, allowed to read or to write its rows.
Reader = Annotated[Member, require(Permission.READ)]
Writer = Annotated[Member, require(Permission.WRITE)]

__all__ = [
    "IN_ORGANIZATION",
    "Member",
    "Permission",
    "Reader",
    "Role",
    "Writer",
    "in_organization",
    "organization_list",
    "require",
]
