"""The users module's settings, read from the one `.env` (`core.config.ModuleSettings`)."""

from pydantic import EmailStr, Field, SecretStr

from core.config import ModuleSettings


class UsersSettings(ModuleSettings):
    FIRST_SUPERUSER_EMAIL: EmailStr | None = None
    """With `FIRST_SUPERUSER_PASSWORD`, the superuser created at start-up (`make run`, the
    container's start) when no account has this address; an existing one is left alone."""
    FIRST_SUPERUSER_PASSWORD: SecretStr | None = None
    """The first superuser's password, set when the account is made."""
    VERIFY_EMAIL_TOKEN_EXPIRE_HOURS: int = Field(default=48, gt=0)
    """A verification link (`FRONTEND_URL/verify-email?token=...`) works once, for this long."""
    RATE_LIMIT_EMAIL_CHANGE: str = "5/hour"
    """Email changes per client address (`PATCH /api/v1/users/me` with a new address): each mails
    a link to the new address."""
    RATE_LIMIT_PASSWORD_CHANGE: str = "5/minute"
    """Password changes per client address (`POST /api/v1/users/me/password`): each tries a
    current password, as a login does."""
