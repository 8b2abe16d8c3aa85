"""The auth module's settings, read from the one `.env` (`core.config.ModuleSettings`)."""

from pydantic import Field

from core.config import ModuleSettings


class AuthSettings(ModuleSettings):
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=15, gt=0)
    REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=7, gt=0)
    OPEN_REGISTRATION: bool = True
    # Unverified accounts cannot sign in.
    REQUIRE_VERIFIED_EMAIL: bool = False
    PASSWORD_RESET_TOKEN_EXPIRE_MINUTES: int = Field(default=30, gt=0)
    RATE_LIMIT_LOGIN: str = "5/minute"
    RATE_LIMIT_REGISTER: str = "5/minute"
    RATE_LIMIT_REFRESH: str = "30/minute"
    # Each request endpoint sends mail to whatever address it is given: keep them scarce.
    RATE_LIMIT_VERIFY: str = "5/hour"
    RATE_LIMIT_PASSWORD_RESET: str = "5/hour"
