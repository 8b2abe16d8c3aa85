from datetime import datetime

from sqlmodel import Field

from core.db import Table, UTCDateTime, utcnow


class User(Table, table=True):
    email: str = Field(max_length=320, unique=True, index=True)
    hashed_password: str = Field(max_length=255)
    full_name: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    # Sessions started before this moment are dead: changing the password signs out everywhere.
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
