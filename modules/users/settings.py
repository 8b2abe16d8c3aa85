"""The users module's settings, read from the one `.env` (`core.config.ModuleSettings`)."""

from pydantic import EmailStr, Field, SecretStr

from core.config import ModuleSettings


class UsersSettings(ModuleSettings):
    # The account made (or promoted) at start-up when both are set (`first_superuser.py`).
    FIRST_SUPERUSER_EMAIL: EmailStr | None = None
    FIRST_SUPERUSER_PASSWORD: SecretStr | None = None
    VERIFY_EMAIL_TOKEN_EXPIRE_HOURS: int = Field(default=48, gt=0)
    # Changing one's address mails a link to it; changing one's password tries a current password.
    RATE_LIMIT_EMAIL_CHANGE: str = "5/hour"
    RATE_LIMIT_PASSWORD_CHANGE: str = "5/minute"
