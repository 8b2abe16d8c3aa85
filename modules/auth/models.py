import uuid
from datetime import datetime

from sqlmodel import Field

from core.db import Table, UTCDateTime, utcnow

USER_AGENT_MAX_LENGTH = 512
IP_ADDRESS_MAX_LENGTH = 45  # an IPv6 address at its longest
# The refresh token hash of a sign-in to /admin, which has no refresh token: no token's hash is
# empty, so nothing ever refreshes it, and the API's list of sessions can leave it out.
NO_REFRESH_TOKEN = ""


class AuthSession(Table, table=True):
    """One login: the family of refresh tokens that rotate from it, or a sign-in to /admin.

    Only the hash of the newest refresh token is kept. Presenting any older one means it
    was copied, so the whole session is revoked. A sign-in to /admin has none: its browser's
    cookie names the session, which ends where a login's does (revoked, expired, outlived by
    the account's password).
    """

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    refresh_token_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Shown to the user in their list of sessions, so they can tell which one to end.
    user_agent: str | None = Field(default=None, max_length=USER_AGENT_MAX_LENGTH)
    ip_address: str | None = Field(default=None, max_length=IP_ADDRESS_MAX_LENGTH)

    @property
    def is_admin_sign_in(self) -> bool:
        return self.refresh_token_hash == NO_REFRESH_TOKEN
