"""Email verification: a signed link mailed to the account's address, good once.

It lives with the users (not auth) because changing one's email sends a new link. The token
names the user and the address it was sent to; confirming an account that is already
verified, or whose address has changed since, is refused, so each link works once.
"""

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from core.config import Settings
from core.errors import ErrorCode, ServiceError
from core.mail import Mail, frontend_link
from core.security import ExpiredTokenError, InvalidTokenError, TokenType, create_token, decode_token
from modules.users.models import User
from modules.users.service import get_user, get_user_by_email

INVALID_LINK = "Invalid verification token"
EXPIRED_LINK = "Verification link has expired; ask for a new one"
USED_LINK = "Verification link has already been used"
STALE_LINK = "Verification link was sent to an address this account no longer uses"


def verification_mail(*, user: User, settings: Settings) -> Mail:
    hours = settings.VERIFY_EMAIL_TOKEN_EXPIRE_HOURS
    token, _ = create_token(
        subject=str(user.id),
        token_type=TokenType.VERIFY_EMAIL,
        secret=settings.secret_key,
        lifetime=timedelta(hours=hours),
        claims={"email": user.email},
    )
    link = frontend_link(settings, "verify-email", token)
    return Mail(
        to=user.email,
        subject=f"Verify your email address for {settings.PROJECT_NAME}",
        body=(
            f"Open this link to confirm that {user.email} is yours:\n\n{link}\n\n"
            f"It works once, within {hours} hours. If you did not ask for it, ignore this message.\n"
        ),
    )


def request_verification(*, session: Session, email: str, settings: Settings) -> Mail | None:
    """The message to send, if the address belongs to an active account not yet verified."""
    user = get_user_by_email(session=session, email=email)
    if user is None or not user.is_active or user.is_verified:
        return None
    return verification_mail(user=user, settings=settings)


def user_from_link(
    *, session: Session, token: str, token_type: TokenType, settings: Settings, invalid: str, expired: str
) -> tuple[User, dict[str, Any]]:
    """The active user a mailed link names, with the token's claims; otherwise a 400 that says
    whether the link expired or is not valid at all. Reset links use it too."""
    try:
        claims = decode_token(token, secret=settings.secret_key, token_type=token_type)
        user = get_user(session=session, user_id=uuid.UUID(claims["sub"]))
    except ExpiredTokenError as exc:
        raise ServiceError(expired, code=ErrorCode.LINK_EXPIRED) from exc
    except (InvalidTokenError, ValueError) as exc:
        raise ServiceError(invalid, code=ErrorCode.LINK_INVALID) from exc
    if user is None or not user.is_active:
        raise ServiceError(invalid, code=ErrorCode.LINK_INVALID)
    return user, claims


def confirm_email(*, session: Session, token: str, settings: Settings) -> User:
    user, claims = user_from_link(
        session=session,
        token=token,
        token_type=TokenType.VERIFY_EMAIL,
        settings=settings,
        invalid=INVALID_LINK,
        expired=EXPIRED_LINK,
    )
    if claims.get("email") != user.email:
        raise ServiceError(STALE_LINK, code=ErrorCode.LINK_USED)
    if user.is_verified:
        raise ServiceError(USED_LINK, code=ErrorCode.LINK_USED)
    user.is_verified = True
    session.add(user)
    session.commit()
    return user
