import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from core.db import Table, UTCDateTime


class Organization(Table, table=True):
    name: str = Field(min_length=1, max_length=200)


class Membership(Table, table=True):
    # The key tenancy.py looks a caller's role up by, on every request in an organization;
    # the user_id index lists one account's organizations.
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        Index("ix_memberships_user_id", "user_id"),
    )

    # String foreign keys: this module never imports the users module's tables.
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    role: str = Field(max_length=20)  # a Role; a plain string column, no database enum to migrate


class Invitation(Table, table=True):
    # One pending invitation per address and organization: inviting again replaces it.
    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)  # a Role; a plain string column, no database enum to migrate
    invited_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Changed by every new invitation to the address: the link mailed before it stops working.
    nonce: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
