"""The admin module's settings, read from the one `.env` (`settings.section(AdminSettings)`)."""

from pydantic import Field

from core.config import ModuleSettings


class AdminSettings(ModuleSettings):
    # /admin, the operators' site (modules/admin): superusers browse and edit every module's tables.
    ADMIN_ENABLED: bool = True
    # A sign-in to /admin ends after this long at the latest; signing out everywhere, a password
    # change, a deactivation or losing the superuser flag ends it at the next request.
    ADMIN_SESSION_EXPIRE_MINUTES: float = Field(default=480, gt=0)
