from datetime import datetime

from sqlalchemy import false
from sqlmodel import Field

from core.db import Table, UTCDateTime, utcnow


class User(Table, table=True):
    email: str = Field(max_length=320, unique=True, index=True)
    hashed_password: str = Field(max_length=255)
    full_name: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    # Proven by following the link mailed to `email`; accounts that predate it start unproven.
    is_verified: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Sessions started and access tokens issued before this moment are dead. Changing or resetting
    # the password sets it, and so do signing out everywhere and deactivation (the name is older
    # than those two; renaming the column is a migration of its own).
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
