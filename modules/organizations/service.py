"""Organizations, their members and invitations. Who may call what is the routes' (`require`);
what no role may do, whatever its permissions, is checked here: no one grants a role above their
own, an admin never changes an owner, an organization always keeps an owner, only a verified
account invites, and an invitation is worth no more than its sender's authority when it is used.

Every change to an organization's members or invitations starts by taking the organization's
lock (`_lock`), before it reads what it decides on: changes to one organization take turns, on
SQLite and PostgreSQL alike, and always lock in one order (the organization, then its rows), so
PostgreSQL never finds two of them waiting on each other."""

import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from core import crud
from core.config import Settings
from core.db import utcnow
from core.errors import ConflictError, ErrorCode, ForbiddenError, NotFoundError, ServiceError
from core.events import publish
from core.jobs import enqueue
from core.links import SignedLink
from core.mail import Mail, enqueue_mail
from core.schemas import PageParams
from core.security import keyed_digest
from modules.organizations.events import MemberRemoved
from modules.organizations.models import Invitation, Membership, Organization
from modules.organizations.permissions import Permission, Role
from modules.organizations.schemas import InvitationCreate, OrganizationCreate, OrganizationUpdate
from modules.organizations.settings import OrganizationsSettings
from modules.organizations.tenancy import NO_ORGANIZATION, NOT_ALLOWED, Member
from modules.users.api import User

NO_MEMBER = "Member not found"
LAST_OWNER = "An organization keeps at least one owner: make someone else owner first"
ABOVE_YOURS = "You cannot grant a role above your own"
OWNERS_ONLY = "Only an owner changes or removes an owner"
ALREADY_MEMBER = "This address already belongs to a member"
UNVERIFIED_INVITER = "Verify your email address before inviting anyone: follow the link mailed to it"
INVALID_LINK = "Invalid invitation link"
EXPIRED_LINK = "Invitation link has expired; ask for a new one"
INVITER_WITHOUT_AUTHORITY = (
    "This invitation is no longer valid: whoever sent it may no longer invite with its role; "
    "ask for a new one"
)
NOT_YOURS = "This invitation was sent to another address"
UNVERIFIED = "Verify your email address before accepting an invitation"
INVITATION_LINK = SignedLink(
    "invitation", page="accept-invitation", invalid=INVALID_LINK, expired=EXPIRED_LINK
)
# The job that deletes an invitation nobody accepted, once its link has expired (jobs.py).
PRUNE_INVITATION_JOB = "organizations.prune_invitation"


def _lock(session: Session, organization_id: uuid.UUID) -> Organization | None:
    """The organization, locked until the transaction ends; None (and nothing held) if it is gone.

    An UPDATE, as the transaction's first write: on PostgreSQL it takes the row's lock; on
    SQLite, where a transaction begins at its first write, it waits for the database's one
    writer to commit (busy_timeout), and only then reads. Either way, what the caller reads next
    is what the organization's last change left, and nothing changes it before this commits.
    (It stamps `updated_at`: a change of members is a change of the organization.)"""
    organizations = crud.table_of(Organization)
    stamped = session.connection().execute(
        update(organizations)
        .where(organizations.c.id == organization_id)
        .values(updated_at=utcnow())
        .returning(*organizations.c)
    )
    row = stamped.first()
    if row is None:  # deleted since the caller's membership was read
        session.rollback()
        return None
    return crud.detached(Organization, row)


def create_organization(
    *, session: Session, owner_id: uuid.UUID, organization_in: OrganizationCreate
) -> Organization:
    """A new organization, its creator its first owner."""
    organization = Organization.model_validate(organization_in)
    session.add(organization)
    # Written before the membership that refers to it: without a relationship() between the two
    # models, the session does not order their INSERTs by the foreign key.
    session.flush()
    session.add(Membership(organization_id=organization.id, user_id=owner_id, role=Role.OWNER))
    session.commit()
    return organization


def organizations_of(
    *, session: Session, caller: uuid.UUID, everyone: bool, params: PageParams
) -> tuple[list[Any], int]:
    """The caller's organizations with their role in each, newest first; with `everyone` (a
    superuser) every organization, the role where they are a member."""
    mine = (col(Membership.organization_id) == Organization.id) & (col(Membership.user_id) == caller)
    rows = select(Organization.id, Organization.name, Organization.created_at, Membership.role).outerjoin(
        Membership, mine
    )
    counted = select(func.count()).select_from(Organization).outerjoin(Membership, mine)
    if not everyone:
        rows, counted = (
            rows.where(col(Membership.id).is_not(None)),
            counted.where(col(Membership.id).is_not(None)),
        )
    newest_first = rows.order_by(col(Organization.created_at).desc(), col(Organization.id))
    return crud.paged(session, newest_first, count=counted, params=params)


def get_organization(*, session: Session, organization_id: uuid.UUID) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:  # deleted since the membership was read
        raise NotFoundError(NO_ORGANIZATION)
    return organization


def rename_organization(
    *, session: Session, organization_id: uuid.UUID, organization_in: OrganizationUpdate
) -> Organization:
    organization = get_organization(session=session, organization_id=organization_id)
    organization.sqlmodel_update(crud.changes(Organization, organization_in))
    return crud.save(session, organization)


def delete_organization(*, session: Session, organization_id: uuid.UUID) -> None:
    """The organization, and with it (foreign keys ON DELETE CASCADE) its memberships,
    invitations and every row it owns. Its own DELETE is the organization's lock, taken first as
    `_lock` takes it; of two deletes at once, the second is 404."""
    crud.delete(session, get_organization(session=session, organization_id=organization_id))


_MEMBER_COLUMNS = (Membership.user_id, User.email, User.full_name, Membership.role, Membership.created_at)


def _members(organization_id: uuid.UUID) -> Any:
    """The members' rows as MemberRead reads them: with their account's address and name."""
    return (
        select_columns(*(col(column) for column in _MEMBER_COLUMNS))
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.organization_id) == organization_id)
    )


def members_of(*, session: Session, organization_id: uuid.UUID, params: PageParams) -> tuple[list[Any], int]:
    """The members, in the order they joined."""
    count = select(func.count()).select_from(Membership).where(Membership.organization_id == organization_id)
    in_order_joined = _members(organization_id).order_by(Membership.created_at, Membership.id)
    return crud.paged(session, in_order_joined, count=count, params=params)


def member_read(*, session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Any:
    """The member as MemberRead reads them; 404 once they are gone (removed since, or their
    account deleted)."""
    found = session.execute(_members(organization_id).where(col(Membership.user_id) == user_id)).first()
    if found is None:
        raise NotFoundError(NO_MEMBER)
    return found


def _strength(caller: Member) -> Role:
    """The role the caller acts with: a superuser, above organizations, acts as an owner."""
    return Role.OWNER if caller.is_superuser or caller.role is None else Role(caller.role)


def _may_invite(inviter: Member, role: Role) -> bool:
    """Whether `inviter` may invite with `role`, as the route (members.invite) and `invite` (no
    role above yours) ask: a superuser holds every permission and acts as an owner."""
    allowed = inviter.is_superuser or Permission.MEMBERS_INVITE.granted_to(inviter.role or "")
    return allowed and not role.outranks(_strength(inviter))


def _membership(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    """The member's membership, read under the organization's lock (taken here): two owners
    demoting each other at once take turns, and the second sees there is no other owner left."""
    if _lock(session, organization_id) is None:
        raise NotFoundError(NO_ORGANIZATION)
    found = session.exec(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    ).first()
    if found is None:
        raise NotFoundError(NO_MEMBER)
    return found


def _refuse_losing_the_last_owner(session: Session, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = select(func.count()).where(
        Membership.organization_id == membership.organization_id, Membership.role == Role.OWNER
    )
    if session.exec(owners).one() <= 1:
        raise ConflictError(LAST_OWNER)


def change_member_role(*, session: Session, caller: Member, user_id: uuid.UUID, role: Role) -> Any:
    """`change_role`, then the member as MemberRead reads them."""
    change_role(session=session, caller=caller, user_id=user_id, role=role)
    return member_read(session=session, organization_id=caller.organization_id, user_id=user_id)


def change_role(*, session: Session, caller: Member, user_id: uuid.UUID, role: Role) -> Membership:
    membership = _membership(session, caller.organization_id, user_id)
    strength = _strength(caller)
    if role.outranks(strength):
        raise ForbiddenError(ABOVE_YOURS)
    if Role(membership.role) == Role.OWNER and strength != Role.OWNER:
        raise ForbiddenError(OWNERS_ONLY)
    if role != Role.OWNER:
        _refuse_losing_the_last_owner(session, membership)
    membership.role = role
    return crud.save(session, membership)


def remove_member(*, session: Session, caller: Member, user_id: uuid.UUID, may_manage: bool) -> None:
    """Remove a member, or (their own id) leave. Removing someone else takes members.manage
    (`may_manage`), and an owner only an owner removes. The invitations they sent die with their
    membership (`MemberRemoved`, heard in listeners.py)."""
    membership = _membership(session, caller.organization_id, user_id)
    if user_id != caller.user_id:
        if not may_manage:
            raise ForbiddenError(NOT_ALLOWED)
        if Role(membership.role) == Role.OWNER and _strength(caller) != Role.OWNER:
            raise ForbiddenError(OWNERS_ONLY)
    _refuse_losing_the_last_owner(session, membership)
    publish(session, MemberRemoved(organization_id=caller.organization_id, user_id=user_id))
    crud.delete(session, membership)


def _nonce_digest(nonce: str, secret: str) -> str:
    return keyed_digest(secret, nonce)[:32]


def _is_verified(session: Session, user_id: uuid.UUID) -> bool:
    verified = session.execute(select_columns(col(User.is_verified)).where(col(User.id) == user_id)).scalar()
    return bool(verified)


def invite(
    *, session: Session, caller: Member, invitation_in: InvitationCreate, settings: Settings
) -> Invitation:
    """Invite an address with a role no stronger than the inviter's, and mail it a link. Only an
    account whose own address is proven (verified) invites, or a superuser: an invitation mails
    whatever address its sender chose, in the organization's words. Inviting the address again
    replaces the pending invitation (role, expiry and link: the old link dies). One nobody
    accepts is deleted once its link expires (`prune_invitation`)."""
    if invitation_in.role.outranks(_strength(caller)):
        raise ForbiddenError(ABOVE_YOURS)
    if not caller.is_superuser and not _is_verified(session, caller.user_id):
        raise ForbiddenError(UNVERIFIED_INVITER)
    organization_id = caller.organization_id
    # Two invitations of one address at once take turns: the second replaces the first.
    organization = _lock(session, organization_id)
    if organization is None:
        raise NotFoundError(NO_ORGANIZATION)
    member = select(Membership.id).join(User, col(User.id) == Membership.user_id)
    if session.exec(
        member.where(Membership.organization_id == organization_id, User.email == invitation_in.email)
    ).first():
        raise ConflictError(ALREADY_MEMBER)
    invitation = session.exec(
        select(Invitation).where(
            Invitation.organization_id == organization_id, Invitation.email == invitation_in.email
        )
    ).first() or Invitation(
        organization_id=organization_id,
        email=invitation_in.email,
        role=invitation_in.role,
        nonce="",
        expires_at=utcnow(),
    )
    nonce = secrets.token_urlsafe(16)
    hours = settings.section(OrganizationsSettings).INVITATION_EXPIRE_HOURS
    link, expires_at = INVITATION_LINK.make(
        subject=invitation.id,
        settings=settings,
        lifetime=timedelta(hours=hours),
        claims={"nonce": nonce},
    )
    digest = _nonce_digest(nonce, settings.secret_key)
    invitation.sqlmodel_update(
        {"role": invitation_in.role, "invited_by": caller.user_id, "nonce": digest, "expires_at": expires_at}
    )
    enqueue_mail(
        session,
        Mail(
            to=invitation.email,
            subject=f"You are invited to {organization.name} on {settings.PROJECT_NAME}",
            body=(
                f"You are invited to join {organization.name} as {invitation.role}. Open this link, "
                f"signed in with {invitation.email} (or after signing up with it), to accept:\n\n{link}\n\n"
                f"It works once, within {hours} hours.\n"
            ),
            expires_at=expires_at,
        ),
    )
    pruned = {"organization_id": str(organization_id), "invitation_id": str(invitation.id), "nonce": digest}
    enqueue(session, PRUNE_INVITATION_JOB, pruned, run_at=expires_at)
    return crud.save(session, invitation)


def prune_invitation(
    *, session: Session, organization_id: uuid.UUID, invitation_id: uuid.UUID, nonce: str
) -> None:
    """Delete an invitation whose link has expired, if it is still the one sent with `nonce`:
    inviting the address again replaced it (and scheduled its own pruning). Accepted, revoked,
    or gone with its organization, there is nothing left to do."""
    _delete_invitations(
        session,
        organization_id,
        col(Invitation.id) == invitation_id,
        col(Invitation.nonce) == nonce,
        col(Invitation.expires_at) <= utcnow(),
    )


def revoke(*, session: Session, invitation: Invitation) -> None:
    """Gone either way: revoked by this request, or by (or accepted in) another at the same
    moment, or with its organization."""
    _delete_invitations(session, invitation.organization_id, col(Invitation.id) == invitation.id)


def revoke_sent_by(
    *, session: Session, organization_id: uuid.UUID, inviter_id: uuid.UUID, before: datetime
) -> None:
    """Revoke the invitations `inviter_id` sent to the organization before `before` (when they
    were removed from it, or left): their authority left with them. One they sent after coming
    back is theirs again, and stays."""
    _delete_invitations(
        session,
        organization_id,
        col(Invitation.organization_id) == organization_id,
        col(Invitation.invited_by) == inviter_id,
        col(Invitation.updated_at) <= before,
    )


def _delete_invitations(session: Session, organization_id: uuid.UUID, *where: ColumnElement[bool]) -> None:
    """Delete the invitations `where` picks, under the organization's lock, and commit; if the
    organization is gone, its invitations went with it and there is nothing to do."""
    if _lock(session, organization_id) is None:
        return
    session.execute(delete(Invitation).where(*where))
    session.commit()


def _inviter(session: Session, invitation: Invitation) -> Member | None:
    """Who sent the invitation, as they stand in its organization now: None once their account
    is gone (`invited_by` is then null) or deactivated, or they are neither a member nor a
    superuser."""
    if invitation.invited_by is None:
        return None
    in_the_organization = (col(Membership.user_id) == User.id) & (
        col(Membership.organization_id) == invitation.organization_id
    )
    found = session.execute(
        select_columns(col(User.is_active), col(User.is_superuser), col(Membership.role))
        .select_from(User)
        .outerjoin(Membership, in_the_organization)
        .where(col(User.id) == invitation.invited_by)
    ).first()
    if found is None or not found.is_active or (found.role is None and not found.is_superuser):
        return None
    return Member(invitation.organization_id, invitation.invited_by, found.role, found.is_superuser)


def accept(*, session: Session, user: User, token: str, settings: Settings) -> tuple[Organization, Member]:
    """Join the organization an invitation link names, with its role: only as the account of
    the address it was sent to, once that address is verified. Returns the organization and the
    account's membership in it.

    The invitation goes with it, so the link works once; a revoked or replaced invitation, or a
    deleted organization, leaves a dead link. So does an inviter without the authority to send
    it now: one who has left or been removed, been demoted below its role, or whose account is
    gone or deactivated (a superuser counts as an owner while they are one). The invitee was
    promised that role: they are refused, never let in with a lesser one."""
    invitation_id, claims = INVITATION_LINK.read(token, secret=settings.secret_key)
    invitation = session.get(Invitation, invitation_id)
    nonce = str(claims.get("nonce", ""))
    if invitation is None or not hmac.compare_digest(
        invitation.nonce, _nonce_digest(nonce, settings.secret_key)
    ):
        raise INVITATION_LINK.refused()
    if invitation.email != user.email:
        raise ForbiddenError(NOT_YOURS)
    if not user.is_verified:
        raise ForbiddenError(UNVERIFIED)
    organization = _lock(session, invitation.organization_id)
    if organization is None:
        raise INVITATION_LINK.refused()
    # Claimed before joining: of two requests with the same link at once, the one whose DELETE
    # finds the row (with the nonce it was read with) joins, the other is refused as a used link.
    claimed = session.connection().execute(
        delete(Invitation).where(
            col(Invitation.id) == invitation.id, col(Invitation.nonce) == invitation.nonce
        )
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise INVITATION_LINK.refused()
    inviter = _inviter(session, invitation)
    if inviter is None or not _may_invite(inviter, Role(invitation.role)):
        session.rollback()  # the invitation stays, for those who may invite to see and revoke
        raise ServiceError(INVITER_WITHOUT_AUTHORITY, code=ErrorCode.LINK_INVALID)
    joined = session.exec(
        select(Membership).where(Membership.organization_id == organization.id, Membership.user_id == user.id)
    ).first()
    if joined is None:
        joined = crud.save(
            session, Membership(organization_id=organization.id, user_id=user.id, role=invitation.role)
        )
    else:  # a member already: the invitation is used up, their role stays
        session.commit()
    return organization, Member(organization.id, user.id, joined.role, user.is_superuser)
