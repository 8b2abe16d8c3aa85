"""The current user: the one dependency other modules may import from here."""

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from core.config import API_PREFIX, SettingsDep
from core.db import SessionDep
from core.errors import ForbiddenError, NotFoundError, UnauthorizedError, raises
from core.security import InvalidTokenError, TokenType, decode_token
from modules.users import service
from modules.users.models import User

# auto_error=False: a missing token gets the same 401 shape as a bad one, below.
bearer = OAuth2PasswordBearer(tokenUrl=f"{API_PREFIX}/auth/login", auto_error=False)


@raises(UnauthorizedError)
def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer)],
) -> User:
    """The active user an access token names. Deleted or deactivated users are refused at once,
    and so is a token issued before the account's last password change, reset, sign-out
    everywhere or deactivation: the row is loaded anyway, so this costs no query."""
    if token is None:
        raise UnauthorizedError("Not authenticated")
    try:
        claims = decode_token(token, secret=settings.secret_key, token_type=TokenType.ACCESS)
        user_id = uuid.UUID(claims["sub"])
        issued_at = float(claims["iat"])
    except (InvalidTokenError, ValueError, TypeError) as exc:
        raise UnauthorizedError("Invalid or expired token") from exc
    user = service.get_user(session=session, user_id=user_id)
    if user is None or not user.is_active or issued_at < user.password_changed_at.timestamp():
        raise UnauthorizedError("Invalid or expired token")
    # Read by the access log at the end of the request.
    request.state.user_id = str(user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@raises(ForbiddenError)
async def get_current_superuser(user: CurrentUser) -> User:
    # No I/O: on the event loop, without a trip to the threadpool.
    if not user.is_superuser:
        raise ForbiddenError("Superuser privileges required")
    return user


CurrentSuperuser = Annotated[User, Depends(get_current_superuser)]


@raises(NotFoundError)
def get_user_by_id(user_id: uuid.UUID, session: SessionDep, _admin: CurrentSuperuser) -> User:
    user = service.get_user(session=session, user_id=user_id)
    if user is None:
        raise NotFoundError("User not found")
    return user


UserById = Annotated[User, Depends(get_user_by_id)]
