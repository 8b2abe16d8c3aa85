"""Password reset: a signed link mailed to the account's address, good once.

The token carries a keyed digest of the account's address and password hash. Any change of
password (this reset, a change at /users/me/password, a superuser's edit) gives a new hash,
so the link dies then: that makes it single use, and a leaked old link useless.

A request only queues a job with the address it names; the job looks for the account and mails
the link. So every request does the same work in the same time, account or not: neither the
answer nor its timing tells whether the address is registered.
"""

import hmac
from datetime import timedelta

from sqlmodel import Session

from core.config import Settings
from core.errors import ErrorCode, ServiceError
from core.jobs import JobContext, enqueue
from core.links import SignedLink
from core.mail import Mail, send_for_job
from core.security import keyed_digest
from modules.auth.settings import AuthSettings
from modules.users.api import User, get_user_by_email, reset_password, user_from_link

INVALID_LINK = "Invalid password reset token"
EXPIRED_LINK = "Password reset link has expired; ask for a new one"
USED_LINK = "Password reset link has already been used, or the password has changed since"
RESET_JOB = "auth.password_reset"
RESET_LINK = SignedLink("reset-password", page="reset-password", invalid=INVALID_LINK, expired=EXPIRED_LINK)


def _fingerprint(user: User, secret: str) -> str:
    """Changes whenever the password (or address) does; keyed, so it tells nothing about either."""
    return keyed_digest(secret, user.email, user.hashed_password)[:32]


def reset_mail(*, user: User, settings: Settings) -> Mail:
    minutes = settings.section(AuthSettings).PASSWORD_RESET_TOKEN_EXPIRE_MINUTES
    link, expires_at = RESET_LINK.make(
        subject=user.id,
        settings=settings,
        lifetime=timedelta(minutes=minutes),
        claims={"pwd": _fingerprint(user, settings.secret_key)},
    )
    return Mail(
        to=user.email,
        subject=f"Reset your password for {settings.PROJECT_NAME}",
        body=(
            f"Open this link to choose a new password for {user.email}:\n\n{link}\n\n"
            f"It works once, within {minutes} minutes, and signs you out everywhere.\n"
            "If you did not ask for it, ignore this message: your password stays as it is.\n"
        ),
        expires_at=expires_at,
    )


def request_password_reset(*, session: Session, email: str) -> None:
    """Queue a reset link for `email`: `send_reset_link` decides, after the answer, whether to send it."""
    enqueue(session, RESET_JOB, {"email": email})
    session.commit()


def send_reset_link(*, session: Session, email: str, context: JobContext) -> None:
    """Mail a reset link, if the address belongs to an active account; otherwise do nothing."""
    user = get_user_by_email(session=session, email=email)
    if user is not None and user.is_active:
        send_for_job(reset_mail(user=user, settings=context.settings), context)


def confirm_password_reset(*, session: Session, token: str, new_password: str, settings: Settings) -> None:
    """Set the new password: every session of the account ends with it (the stamp the password
    change sets; auth's listener to UserPasswordChanged marks the sessions revoked)."""
    user, claims = user_from_link(session=session, token=token, link=RESET_LINK, settings=settings)
    if not hmac.compare_digest(str(claims.get("pwd", "")), _fingerprint(user, settings.secret_key)):
        raise ServiceError(USED_LINK, code=ErrorCode.LINK_USED)
    if not reset_password(
        session=session, user=user, new_password=new_password, rounds=settings.BCRYPT_ROUNDS
    ):
        raise ServiceError(USED_LINK, code=ErrorCode.LINK_USED)
