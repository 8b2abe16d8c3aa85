"""Organizations, members and invitations. The caller's role in the organization the path names
is read by the route's dependency (`tenancy.py`), on every request: never from the token."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.concurrency import run_in_threadpool

from core.access import CurrentCaller
from core.config import SettingsDep
from core.db import SessionDep
from core.errors import ConflictError, ForbiddenError, NotFoundError, ServiceError, responses
from core.schemas import PageParams
from modules.organizations import service
from modules.organizations.dependencies import (
    AnyMember,
    BudgetedInviter,
    Invitations,
    Manager,
    MembersManager,
    PendingInvitation,
)
from modules.organizations.models import Invitation, Organization
from modules.organizations.permissions import Permission, Role
from modules.organizations.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationPage,
    InvitationRead,
    MemberPage,
    MemberRead,
    MemberUpdate,
    OrganizationCreate,
    OrganizationPage,
    OrganizationRead,
    OrganizationUpdate,
)
from modules.organizations.tenancy import Member
from modules.users.api import CurrentUser

router = APIRouter()

# Every handler is `async def`, and sends what blocks (the database) to the threadpool in one
# trip: a `def` handler would cost two, one to run it and one more to check its answer.


def _read(organization: Organization, member: Member) -> OrganizationRead:
    return OrganizationRead.model_validate({**organization.model_dump(), "role": member.role})


@router.post("", response_model=OrganizationRead, status_code=status.HTTP_201_CREATED)
async def create_organization(
    organization_in: OrganizationCreate, caller: CurrentCaller, session: SessionDep
) -> OrganizationRead:
    """A new organization; its creator is its first owner."""
    organization = await run_in_threadpool(
        service.create_organization, session=session, owner_id=caller.id, organization_in=organization_in
    )
    return OrganizationRead.model_validate({**organization.model_dump(), "role": Role.OWNER})


@router.get("", response_model=OrganizationPage)
async def list_organizations(
    caller: CurrentCaller, session: SessionDep, params: Annotated[PageParams, Query()]
) -> OrganizationPage:
    """The organizations the caller is a member of, with their role; a superuser sees every one."""
    rows, total = await run_in_threadpool(
        service.organizations_of,
        session=session,
        caller=caller.id,
        everyone=caller.is_superuser,
        params=params,
    )
    return OrganizationPage.of(rows, total=total, params=params)


# Before the routes below: "invitations" is no organization id.
@router.post(
    "/invitations/accept",
    response_model=OrganizationRead,
    responses=responses(ServiceError, ForbiddenError, ConflictError),
)
async def accept_invitation(
    body: InvitationAccept, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> OrganizationRead:
    """Join with the role an invitation gives: signed in as the (verified) address it was mailed
    to, while whoever sent it may still invite with that role."""
    organization, member = await run_in_threadpool(
        service.accept, session=session, user=user, token=body.token, settings=settings
    )
    return _read(organization, member)


@router.get("/{organization_id}", response_model=OrganizationRead)
async def read_organization(member: AnyMember, session: SessionDep) -> OrganizationRead:
    organization = await run_in_threadpool(
        service.get_organization, session=session, organization_id=member.organization_id
    )
    return _read(organization, member)


@router.patch("/{organization_id}", response_model=OrganizationRead)
async def rename_organization(
    organization_in: OrganizationUpdate, member: Manager, session: SessionDep
) -> OrganizationRead:
    organization = await run_in_threadpool(
        service.rename_organization,
        session=session,
        organization_id=member.organization_id,
        organization_in=organization_in,
    )
    return _read(organization, member)


@router.delete("/{organization_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization(member: Manager, session: SessionDep) -> None:
    """The organization, its members, invitations and every row it owns."""
    await run_in_threadpool(
        service.delete_organization, session=session, organization_id=member.organization_id
    )


@router.get("/{organization_id}/members", response_model=MemberPage)
async def list_members(
    member: AnyMember, session: SessionDep, params: Annotated[PageParams, Query()]
) -> MemberPage:
    rows, total = await run_in_threadpool(
        service.members_of, session=session, organization_id=member.organization_id, params=params
    )
    return MemberPage.of(rows, total=total, params=params)


@router.patch(
    "/{organization_id}/members/{user_id}",
    response_model=MemberRead,
    responses=responses(NotFoundError, ConflictError),
)
async def change_role(
    user_id: uuid.UUID, member_in: MemberUpdate, member: MembersManager, session: SessionDep
) -> MemberRead:
    """A member's new role: never above the caller's own, an owner's only by an owner, and never
    the last owner's."""
    row = await run_in_threadpool(
        service.change_member_role, session=session, caller=member, user_id=user_id, role=member_in.role
    )
    return MemberRead.model_validate(row, from_attributes=True)


@router.delete(
    "/{organization_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(NotFoundError, ConflictError, ForbiddenError),
)
async def remove_member(user_id: uuid.UUID, member: AnyMember, session: SessionDep) -> None:
    """Remove a member (members.manage), or leave: your own id. The last owner cannot leave."""
    may_manage = member.is_superuser or Permission.MEMBERS_MANAGE.granted_to(member.role or "")
    await run_in_threadpool(
        service.remove_member, session=session, caller=member, user_id=user_id, may_manage=may_manage
    )


@router.post(
    "/{organization_id}/invitations",
    response_model=InvitationRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(ConflictError),
)
async def invite(
    invitation_in: InvitationCreate, member: BudgetedInviter, session: SessionDep, settings: SettingsDep
) -> Invitation:
    """Mail an address a link to join with a role no stronger than yours, from a verified account.
    Inviting it again replaces the pending invitation, and the link mailed before stops working."""
    return await run_in_threadpool(
        service.invite, session=session, caller=member, invitation_in=invitation_in, settings=settings
    )


@router.get("/{organization_id}/invitations", response_model=InvitationPage)
async def list_invitations(invitations: Invitations) -> InvitationPage:
    return InvitationPage.of(invitations.rows, total=invitations.total, params=invitations.query)


@router.delete("/{organization_id}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(invitation: PendingInvitation, session: SessionDep) -> None:
    """The invitation's link stops working."""
    await run_in_threadpool(service.revoke, session=session, invitation=invitation)
