"""The auth module's settings, read from the one `.env` (`core.config.ModuleSettings`)."""

from pydantic import Field

from core.config import ModuleSettings


class AuthSettings(ModuleSettings):
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=15, gt=0)
    """How long an access token is good for; a client renews it with its refresh token."""
    REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=7, gt=0)
    """How long a refresh token is good for: each refresh issues a new one, so a sign-in ends
    once it is left unused this long."""
    OPEN_REGISTRATION: bool = True
    """Anyone may create an account (`POST /api/v1/auth/register`); off, registration answers 403
    and superusers still create accounts."""
    REQUIRE_VERIFIED_EMAIL: bool = False
    """Unverified accounts cannot sign in: login answers 403 until the address is verified."""
    PASSWORD_RESET_TOKEN_EXPIRE_MINUTES: int = Field(default=30, gt=0)
    """A password reset link (`FRONTEND_URL/reset-password?token=...`) works once, for this long."""
    RATE_LIMIT_LOGIN: str = "5/minute"
    """Logins per client address."""
    RATE_LIMIT_REGISTER: str = "5/minute"
    """Registrations per client address."""
    RATE_LIMIT_REFRESH: str = "30/minute"
    """Token refreshes per client address."""
    # Each request endpoint below sends mail to whatever address it is given: keep them scarce.
    RATE_LIMIT_VERIFY: str = "5/hour"
    """Requests for a verification link per client address: each mails the address it is given."""
    RATE_LIMIT_PASSWORD_RESET: str = "5/hour"
    """Requests for a password reset link per client address: each mails the address it is given."""
