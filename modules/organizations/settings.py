"""The organizations module's settings, read from the one `.env` (`core.config.ModuleSettings`)."""

from pydantic import Field

from core.config import ModuleSettings


class OrganizationsSettings(ModuleSettings):
    INVITATION_EXPIRE_HOURS: int = Field(default=72, gt=0)
    """An invitation's link (`FRONTEND_URL/accept-invitation?token=...`) works once, for this long."""
    # An invitation mails an address its sender chose: each inviting account, wherever it invites
    # (however many organizations it makes), and each organization, whoever invites, has a budget.
    RATE_LIMIT_INVITATIONS_PER_INVITER: str = "30/hour"
    """Invitations each account may send, across all its organizations, so making new ones adds
    none."""
    RATE_LIMIT_INVITATIONS_PER_ORGANIZATION: str = "60/hour"
    """Invitations each organization may send, whoever invites."""
