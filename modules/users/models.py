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
    # Sessions started before this moment are dead: changing the password signs out everywhere.
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
