"""Email verification: a signed link mailed to the account's address, good once.

It lives with the users (not auth) because changing one's email sends a link too: a new address
is set only when the link mailed to it is followed, so the change proves it, and the answer to
the change never tells whether another account uses the address. The token names the user and
the address it was sent to (and, for a change, the address it replaces); a link whose account is
already verified, or whose address has changed since, is refused, so each link works once.

Requests only queue a job with what they were given; the job decides whether a mail goes out
(is there such an account? is the new address free?). So the request does the same work in the
same time either way, and neither its answer nor its timing tells who is registered.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from core.config import Settings
from core.errors import ErrorCode, ServiceError
from core.jobs import JobContext, enqueue
from core.links import SignedLink
from core.mail import Mail, send_for_job
from modules.users.models import User
from modules.users.schemas import UserUpdateMe
from modules.users.service import change_email, get_user, get_user_by_email, update_user
from modules.users.settings import UsersSettings

INVALID_LINK = "Invalid verification token"
EXPIRED_LINK = "Verification link has expired; ask for a new one"
USED_LINK = "Verification link has already been used"
STALE_LINK = "Verification link was sent to an address this account no longer uses"
VERIFICATION_JOB = "users.verification"
EMAIL_CHANGE_JOB = "users.email_change"
VERIFY_LINK = SignedLink("verify-email", page="verify-email", invalid=INVALID_LINK, expired=EXPIRED_LINK)


def _hours(settings: Settings) -> int:
    """How long a mailed link works."""
    return settings.section(UsersSettings).VERIFY_EMAIL_TOKEN_EXPIRE_HOURS


def _link(user: User, settings: Settings, claims: dict[str, str]) -> tuple[str, datetime]:
    """A verification link for `claims`, and when it stops working."""
    lifetime = timedelta(hours=_hours(settings))
    return VERIFY_LINK.make(subject=user.id, settings=settings, lifetime=lifetime, claims=claims)


def verification_mail(*, user: User, settings: Settings) -> Mail:
    link, expires_at = _link(user, settings, {"email": user.email})
    return Mail(
        to=user.email,
        subject=f"Verify your email address for {settings.PROJECT_NAME}",
        body=(
            f"Open this link to confirm that {user.email} is yours:\n\n{link}\n\n"
            f"It works once, within {_hours(settings)} hours. "
            "If you did not ask for it, ignore this message.\n"
        ),
        expires_at=expires_at,
    )


def email_change_mail(*, user: User, new_email: str, settings: Settings) -> Mail:
    link, expires_at = _link(user, settings, {"email": new_email, "replaces": user.email})
    return Mail(
        to=new_email,
        subject=f"Confirm your new email address for {settings.PROJECT_NAME}",
        body=(
            f"Open this link to sign in to {settings.PROJECT_NAME} as {new_email} from now on:\n\n"
            f"{link}\n\nIt works once, within {_hours(settings)} hours. "
            "If you did not ask for it, ignore this message: nothing changes.\n"
        ),
        expires_at=expires_at,
    )


def update_own_profile(*, session: Session, user: User, user_in: UserUpdateMe, settings: Settings) -> None:
    """Apply a user's edit of their own account; a new address is mailed a link to confirm it.

    The address itself is left as it is. The link goes to the new address unless another account
    uses it (`send_email_change_link` decides, after the answer); either way the account reads the
    same afterwards, so the answer does not tell. The job is committed with the edit.
    """
    new_email = user_in.email
    if new_email and new_email != user.email:
        enqueue(session, EMAIL_CHANGE_JOB, {"user_id": str(user.id), "email": new_email})
    update_user(
        session=session,
        user=user,
        user_in=user_in.model_copy(update={"email": None}),  # to update_user, null means "leave it"
        rounds=settings.BCRYPT_ROUNDS,
    )


def send_email_change_link(*, session: Session, user_id: uuid.UUID, email: str, context: JobContext) -> None:
    """Mail the link that sets `email` on the account, unless another account uses the address
    (or the account is gone or inactive): then nothing is sent."""
    user = get_user(session=session, user_id=user_id)
    if user is None or not user.is_active or user.email == email:
        return
    if get_user_by_email(session=session, email=email) is None:
        send_for_job(email_change_mail(user=user, new_email=email, settings=context.settings), context)


def request_verification(*, session: Session, email: str) -> None:
    """Queue a verification link for `email`: `send_verification_link` decides whether to send it."""
    enqueue(session, VERIFICATION_JOB, {"email": email})
    session.commit()


def send_verification_link(*, session: Session, email: str, context: JobContext) -> None:
    """Mail a verification link, if the address belongs to an active account not yet verified;
    otherwise do nothing."""
    user = get_user_by_email(session=session, email=email)
    if user is not None and user.is_active and not user.is_verified:
        send_for_job(verification_mail(user=user, settings=context.settings), context)


def user_from_link(
    *, session: Session, token: str, link: SignedLink, settings: Settings
) -> tuple[User, dict[str, Any]]:
    """The active user a mailed `link` names, with the token's claims; otherwise a 400 that says
    whether the link expired or is not valid at all. Reset links use it too."""
    user_id, claims = link.read(token, secret=settings.secret_key)
    user = get_user(session=session, user_id=user_id)
    if user is None or not user.is_active:
        raise link.refused()
    return user, claims


def confirm_email(*, session: Session, token: str, settings: Settings) -> User:
    user, claims = user_from_link(session=session, token=token, link=VERIFY_LINK, settings=settings)
    if "replaces" in claims:
        return _confirm_change(session, user, claims)
    if claims.get("email") != user.email:
        raise ServiceError(STALE_LINK, code=ErrorCode.LINK_USED)
    if user.is_verified:
        raise ServiceError(USED_LINK, code=ErrorCode.LINK_USED)
    user.is_verified = True
    session.add(user)
    session.commit()
    return user


def _confirm_change(session: Session, user: User, claims: dict[str, Any]) -> User:
    """Set the address a change link was mailed to, now proven. Only while the account still
    uses the address the link replaces: once followed (or after another change) it is dead."""
    if claims["email"] == user.email:
        raise ServiceError(USED_LINK, code=ErrorCode.LINK_USED)
    if claims["replaces"] != user.email:
        raise ServiceError(STALE_LINK, code=ErrorCode.LINK_USED)
    return change_email(session=session, user=user, email=str(claims["email"]))
