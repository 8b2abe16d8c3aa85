"""What the auth module does when something happens to an account (`core.events`).

An account's sign-ins already die with it at once: its password change or deactivation stamps
the account, and every token issued before the stamp is refused on its next request. These mark
its sessions revoked too, so the table says what happened and pruning finds them. Each runs at
least once: marking them again changes nothing.
"""

from core.events import listener
from core.jobs import JobContext
from modules.auth.service import mark_sessions_revoked
from modules.users.events import UserDeactivated, UserPasswordChanged


@listener(UserPasswordChanged)
def end_sign_ins_after_a_password_change(event: UserPasswordChanged, context: JobContext) -> None:
    with context.session() as session:
        mark_sessions_revoked(session=session, user_id=event.user_id)
        session.commit()


@listener(UserDeactivated)
def end_sign_ins_of_a_deactivated_account(event: UserDeactivated, context: JobContext) -> None:
    with context.session() as session:
        mark_sessions_revoked(session=session, user_id=event.user_id)
        session.commit()
