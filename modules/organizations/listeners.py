"""What the organizations module does when something happens in it (`core.events`).

A removed member's invitations are refused at acceptance already (their authority is checked
then, `service.accept`); revoking them here also clears them from the pending list. Each runs at
least once: revoking again deletes nothing more.
"""

from core.events import listener
from core.jobs import JobContext
from modules.organizations.events import MemberRemoved
from modules.organizations.service import revoke_sent_by


@listener(MemberRemoved)
def revoke_the_invitations_of_a_removed_member(event: MemberRemoved, context: JobContext) -> None:
    with context.session() as session:
        revoke_sent_by(
            session=session,
            organization_id=event.organization_id,
            inviter_id=event.user_id,
            before=event.occurred_at,
        )
