"""What happens in organizations, for other modules (and this one's listeners) to react to
(`core.events`). Each carries ids only."""

import uuid

from core.events import Event


class MemberRemoved(Event):
    """The account is no member of the organization any more: removed, or it left. (Deleting an
    account, or the organization, takes memberships with it and publishes no such event.)"""

    organization_id: uuid.UUID
    user_id: uuid.UUID
