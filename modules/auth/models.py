import uuid
from datetime import datetime

from sqlmodel import Field

from core.db import Table, UTCDateTime, utcnow

USER_AGENT_MAX_LENGTH = 512
IP_ADDRESS_MAX_LENGTH = 45  # an IPv6 address at its longest


class AuthSession(Table, table=True):
    """One login: the family of refresh tokens that rotate from it.

    Only the hash of the newest refresh token is kept. Presenting any older one means it
    was copied, so the whole session is revoked.
    """

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    refresh_token_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Shown to the user in their list of sessions, so they can tell which one to end.
    user_agent: str | None = Field(default=None, max_length=USER_AGENT_MAX_LENGTH)
    ip_address: str | None = Field(default=None, max_length=IP_ADDRESS_MAX_LENGTH)
