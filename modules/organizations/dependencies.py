from typing import Annotated

from fastapi import Depends, Request

from core import crud, ratelimit
from core.errors import RateLimitedError, raises
from modules.organizations import tenancy
from modules.organizations.models import Invitation
from modules.organizations.permissions import Permission
from modules.organizations.schemas import InvitationQuery
from modules.organizations.settings import OrganizationsSettings
from modules.organizations.tenancy import AnyMember, Member, require

# The caller in the organization the path names: any member (a superuser too), or one whose role
# holds the permission. A non-member is 404, as for a missing organization; a member without it 403.
Manager = Annotated[Member, require(Permission.ORGANIZATION_MANAGE)]
MembersManager = Annotated[Member, require(Permission.MEMBERS_MANAGE)]
Inviter = Annotated[Member, require(Permission.MEMBERS_INVITE)]


@raises(RateLimitedError)
async def spend_invitation_budgets(inviter: Inviter, request: Request) -> Member:
    """Each invitation mails an address its sender chose: it spends the inviter's budget, wherever
    they invite (so making organizations adds none), and the organization's, whoever invites."""
    await ratelimit.spend(
        request, "invitations_per_inviter", key=str(inviter.user_id), section=OrganizationsSettings
    )
    await ratelimit.spend(
        request,
        "invitations_per_organization",
        key=str(inviter.organization_id),
        section=OrganizationsSettings,
    )
    return inviter


# One who may invite, within the invitation budgets (429 past them).
BudgetedInviter = Annotated[Member, Depends(spend_invitation_budgets)]

# The organization's pending invitations, and one of them by its id, for those who may invite.
AMONG_INVITATIONS = tenancy.in_organization(
    {"GET": Permission.MEMBERS_INVITE, "DELETE": Permission.MEMBERS_INVITE}
)
PendingInvitation = Annotated[Invitation, crud.scoped(Invitation, AMONG_INVITATIONS)]
Invitations = Annotated[crud.Listed, crud.scoped_list(Invitation, InvitationQuery, AMONG_INVITATIONS)]

__all__ = [
    "AnyMember",
    "BudgetedInviter",
    "Invitations",
    "Inviter",
    "Manager",
    "MembersManager",
    "PendingInvitation",
]
