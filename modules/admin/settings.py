"""The admin module's settings, read from the one `.env` (`settings.section(AdminSettings)`)."""

from pydantic import Field

from core.config import ModuleSettings


class AdminSettings(ModuleSettings):
    ADMIN_ENABLED: bool = True
    """Serve `/admin`, the operators' site, where superusers browse and edit every module's tables.
    On everywhere by default: only active superusers get in, through the API's login limit; off
    removes every route."""
    ADMIN_SESSION_EXPIRE_MINUTES: float = Field(default=480, gt=0)
    """A sign-in to `/admin` ends after this long at the latest; signing out everywhere, a password
    change, a deactivation or losing the superuser flag ends it at the next request."""
