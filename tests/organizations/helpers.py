"""Organizations and memberships made directly, for tests that need a member of a given role,
and the invitation link a test reads from the mail."""

import uuid

from sqlmodel import Session, select

from core.db import metadata
from modules.organizations.models import Membership
from tests.auth.lifecycle import Outbox
from tests.helpers import insert_row

URL = "/api/v1/organizations"
ACCEPT = f"{URL}/invitations/accept"
BOB = "bob@example.com"
# The frontend page an invitation's link opens (`service.invite`).
INVITATION_PATH = "accept-invitation"


def add_member(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID, role: str) -> uuid.UUID:
    """`user_id` joins the organization as `role` (a `Role` value); returns the membership's id."""
    return insert_row(session, "memberships", organization_id=organization_id, user_id=user_id, role=role)


def set_role(session: Session, membership_id: uuid.UUID, role: str) -> None:
    """Change a membership's role behind the API's back, as another request would have."""
    memberships = metadata().tables["memberships"]
    session.execute(memberships.update().where(memberships.c.id == membership_id).values(role=role))
    session.commit()


def add_organization(session: Session, name: str = "Acme") -> uuid.UUID:
    """An organization with no member yet; returns its id."""
    return insert_row(session, "organizations", name=name)


def invitation_token(outbox: Outbox, email: str) -> str:
    """The token of the last invitation link mailed to `email`."""
    return outbox.token(email, INVITATION_PATH)


def role_of(session: Session, organization: dict[str, str], user_id: uuid.UUID) -> str | None:
    """The role `user_id` holds in the organization (as the API returned it) now, or None."""
    session.expire_all()
    membership = session.exec(
        select(Membership).where(
            Membership.organization_id == uuid.UUID(organization["id"]), Membership.user_id == user_id
        )
    ).first()
    return membership.role if membership else None


async def invite(client, headers, organization, role="member", email=BOB):
    """An invitation sent through the API (201 asserted): its JSON."""
    r = await client.post(
        f"{URL}/{organization['id']}/invitations", json={"email": email, "role": role}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


async def accept(client, headers, token):
    return await client.post(ACCEPT, json={"token": token}, headers=headers)
