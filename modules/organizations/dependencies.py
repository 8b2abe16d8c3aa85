from typing import Annotated

from core import crud, tenancy
from core.tenancy import AnyMember, Member, require
from modules.organizations.models import Invitation
from modules.organizations.permissions import Permission
from modules.organizations.schemas import InvitationQuery

# The caller in the organization the path names: any member (a superuser too), or one whose role
# holds the permission. A non-member is 404, as for a missing organization; a member without it 403.
Manager = Annotated[Member, require(Permission.ORGANIZATION_MANAGE)]
MembersManager = Annotated[Member, require(Permission.MEMBERS_MANAGE)]
Inviter = Annotated[Member, require(Permission.MEMBERS_INVITE)]

# The organization's pending invitations, and one of them by its id, for those who may invite.
PendingInvitation = Annotated[
    Invitation, tenancy.in_organization(Invitation, {"DELETE": Permission.MEMBERS_INVITE})
]
Invitations = Annotated[
    crud.Listed, tenancy.organization_list(Invitation, InvitationQuery, Permission.MEMBERS_INVITE)
]

__all__ = ["AnyMember", "Invitations", "Inviter", "Manager", "MembersManager", "PendingInvitation"]
