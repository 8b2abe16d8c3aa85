"""Organizations, their members and invitations. Who may call what is the routes' (`require`);
what no role may do, whatever its permissions, is checked here: no one grants a role above their
own, an admin never changes an owner, and an organization always keeps an owner."""

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import crud
from core.config import Settings
from core.db import utcnow
from core.errors import ConflictError, ErrorCode, ForbiddenError, NotFoundError, ServiceError
from core.mail import Mail, enqueue_mail, frontend_link
from core.schemas import PageParams
from core.security import ExpiredTokenError, InvalidTokenError, TokenType, create_token, decode_token
from core.tenancy import Member
from modules.organizations.models import Invitation, Membership, Organization
from modules.organizations.permissions import Role
from modules.organizations.schemas import InvitationCreate, OrganizationCreate, OrganizationUpdate
from modules.users.api import User

LAST_OWNER = "An organization keeps at least one owner: make someone else owner first"
ABOVE_YOURS = "You cannot grant a role above your own"
OWNERS_ONLY = "Only an owner changes or removes an owner"
ALREADY_MEMBER = "This address already belongs to a member"
INVITED_AT_ONCE = "Another invitation to this address was sent at the same moment; try again"
INVALID_LINK = "Invalid invitation link"
EXPIRED_LINK = "Invitation link has expired; ask for a new one"
NOT_YOURS = "This invitation was sent to another address"
UNVERIFIED = "Verify your email address before accepting an invitation"


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
    page = (
        rows.order_by(col(Organization.created_at).desc(), col(Organization.id))
        .offset(params.offset)
        .limit(params.limit)
    )
    return list(session.exec(page).all()), session.exec(counted).one()


def get_organization(*, session: Session, organization_id: uuid.UUID) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:  # deleted since the membership was read
        raise NotFoundError("Organization not found")
    return organization


def rename_organization(
    *, session: Session, organization: Organization, organization_in: OrganizationUpdate
) -> Organization:
    organization.sqlmodel_update(crud.changes(Organization, organization_in))
    return crud.save(session, organization)


def delete_organization(*, session: Session, organization: Organization) -> None:
    """The organization, and with it (foreign keys ON DELETE CASCADE) its memberships,
    invitations and every row it owns."""
    session.delete(organization)
    session.commit()


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
    total = session.exec(
        select(func.count()).select_from(Membership).where(Membership.organization_id == organization_id)
    ).one()
    page = _members(organization_id).order_by(Membership.created_at, Membership.id)
    return list(session.execute(page.offset(params.offset).limit(params.limit)).all()), total


def member(*, session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Member:
    found = session.exec(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    ).one()
    return Member(organization_id, user_id, found.role, False)


def member_read(*, session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Any:
    return session.execute(_members(organization_id).where(col(Membership.user_id) == user_id)).one()


def _strength(caller: Member) -> Role:
    """The role the caller acts with: a superuser, above organizations, acts as an owner."""
    return Role.OWNER if caller.is_superuser or caller.role is None else Role(caller.role)


def _membership(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    # Locks the organization's row first (on PostgreSQL): two owners demoting each other at once
    # take turns, and the second sees there is no other owner left.
    session.get(Organization, organization_id, with_for_update=True)
    found = session.exec(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    ).first()
    if found is None:
        raise NotFoundError("Member not found")
    return found


def _refuse_losing_the_last_owner(session: Session, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = select(func.count()).where(
        Membership.organization_id == membership.organization_id, Membership.role == Role.OWNER
    )
    if session.exec(owners).one() <= 1:
        raise ConflictError(LAST_OWNER)


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
    session.add(membership)
    session.commit()
    return membership


def remove_member(*, session: Session, caller: Member, user_id: uuid.UUID, may_manage: bool) -> None:
    """Remove a member, or (their own id) leave. Removing someone else takes members.manage
    (`may_manage`), and an owner only an owner removes."""
    membership = _membership(session, caller.organization_id, user_id)
    if user_id != caller.user_id:
        if not may_manage:
            raise ForbiddenError("Your role in this organization does not allow this")
        if Role(membership.role) == Role.OWNER and _strength(caller) != Role.OWNER:
            raise ForbiddenError(OWNERS_ONLY)
    _refuse_losing_the_last_owner(session, membership)
    session.delete(membership)
    session.commit()


def _nonce_digest(nonce: str, secret: str) -> str:
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]


def invite(
    *, session: Session, caller: Member, invitation_in: InvitationCreate, settings: Settings
) -> Invitation:
    """Invite an address with a role no stronger than the inviter's, and mail it a link. Inviting
    it again replaces the pending invitation (role, expiry and link: the old link dies)."""
    if invitation_in.role.outranks(_strength(caller)):
        raise ForbiddenError(ABOVE_YOURS)
    organization_id = caller.organization_id
    # Locks the organization's row first (on PostgreSQL): two invitations of one address at once
    # take turns, and the second replaces the first rather than colliding with it.
    organization = session.get(Organization, organization_id, with_for_update=True)
    if organization is None:  # deleted since the membership was read
        raise NotFoundError("Organization not found")
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
    token, expires_at = create_token(
        subject=str(invitation.id),
        token_type=TokenType.INVITATION,
        secret=settings.secret_key,
        lifetime=timedelta(hours=settings.INVITATION_EXPIRE_HOURS),
        claims={"nonce": nonce},
    )
    invitation.sqlmodel_update(
        {
            "role": invitation_in.role,
            "invited_by": caller.user_id,
            "nonce": _nonce_digest(nonce, settings.secret_key),
            "expires_at": expires_at,
        }
    )
    session.add(invitation)
    link = frontend_link(settings, "accept-invitation", token)
    enqueue_mail(
        session,
        Mail(
            to=invitation.email,
            subject=f"You are invited to {organization.name} on {settings.PROJECT_NAME}",
            body=(
                f"You are invited to join {organization.name} as {invitation.role}. Open this link, "
                f"signed in with {invitation.email} (or after signing up with it), to accept:\n\n{link}\n\n"
                f"It works once, within {settings.INVITATION_EXPIRE_HOURS} hours.\n"
            ),
            expires_at=expires_at,
        ),
    )
    try:
        session.commit()
    except IntegrityError as exc:  # on SQLite, which has no row lock: the other one was first
        session.rollback()
        raise ConflictError(INVITED_AT_ONCE) from exc
    return invitation


def revoke(*, session: Session, invitation: Invitation) -> None:
    """Gone either way: revoked by this request, or by (or accepted in) another at the same moment."""
    session.execute(delete(Invitation).where(col(Invitation.id) == invitation.id))
    session.commit()


def accept(*, session: Session, user: User, token: str, settings: Settings) -> Organization:
    """Join the organization an invitation link names, with its role: only as the account of
    the address it was sent to, once that address is verified. The invitation goes with it, so
    the link works once; a revoked or replaced invitation, or a deleted organization, leaves a
    dead link."""
    try:
        claims = decode_token(token, secret=settings.secret_key, token_type=TokenType.INVITATION)
        invitation = session.get(Invitation, uuid.UUID(claims["sub"]))
    except ExpiredTokenError as exc:
        raise ServiceError(EXPIRED_LINK, code=ErrorCode.LINK_EXPIRED) from exc
    except (InvalidTokenError, ValueError, KeyError) as exc:
        raise ServiceError(INVALID_LINK, code=ErrorCode.LINK_INVALID) from exc
    nonce = str(claims.get("nonce", ""))
    if invitation is None or not hmac.compare_digest(
        invitation.nonce, _nonce_digest(nonce, settings.secret_key)
    ):
        raise ServiceError(INVALID_LINK, code=ErrorCode.LINK_INVALID)
    if invitation.email != user.email:
        raise ForbiddenError(NOT_YOURS)
    if not user.is_verified:
        raise ForbiddenError(UNVERIFIED)
    organization = get_organization(session=session, organization_id=invitation.organization_id)
    # Claimed before joining: of two requests with the same link at once, the one whose DELETE
    # finds the row (with the nonce it was read with) joins, the other is refused as a used link.
    claimed = session.connection().execute(
        delete(Invitation).where(
            col(Invitation.id) == invitation.id, col(Invitation.nonce) == invitation.nonce
        )
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise ServiceError(INVALID_LINK, code=ErrorCode.LINK_INVALID)
    joined = select(Membership.id).where(
        Membership.organization_id == organization.id, Membership.user_id == user.id
    )
    if session.exec(joined).first() is None:
        session.add(Membership(organization_id=organization.id, user_id=user.id, role=invitation.role))
    session.commit()
    return organization
