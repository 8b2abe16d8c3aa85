"""The organizations module's settings, read from the one `.env` (`core.config.ModuleSettings`)."""

from pydantic import Field

from core.config import ModuleSettings


class OrganizationsSettings(ModuleSettings):
    INVITATION_EXPIRE_HOURS: int = Field(default=72, gt=0)
    # An invitation mails an address its sender chose: each inviting account, wherever it invites
    # (however many organizations it makes), and each organization, whoever invites, has a budget.
    RATE_LIMIT_INVITATIONS_PER_INVITER: str = "30/hour"
    RATE_LIMIT_INVITATIONS_PER_ORGANIZATION: str = "60/hour"
