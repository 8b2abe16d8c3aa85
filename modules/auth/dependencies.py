import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from core.access import INVALID_TOKEN, AccessClaims
from core.config import SettingsDep
from core.db import SessionDep
from core.errors import NotFoundError, UnauthorizedError, raises
from core.security import InvalidTokenError, TokenType, decode_token
from modules.auth import service
from modules.auth.models import AuthSession
from modules.auth.schemas import RefreshRequest
from modules.auth.service import INVALID_REFRESH_TOKEN
from modules.users.api import CurrentUser

NO_SESSION = "Session not found"


@dataclass(frozen=True)
class RefreshToken:
    token: str
    claims: dict[str, Any]


@raises(UnauthorizedError)
async def verified_refresh_token(body: RefreshRequest, settings: SettingsDep) -> RefreshToken:
    """The refresh token in the body, signature and type checked; an access token is refused.
    No I/O (a signature check is microseconds), so it runs on the event loop."""
    try:
        claims = decode_token(body.refresh_token, secret=settings.secret_key, token_type=TokenType.REFRESH)
    except InvalidTokenError as exc:
        raise UnauthorizedError(INVALID_REFRESH_TOKEN) from exc
    return RefreshToken(token=body.refresh_token, claims=claims)


VerifiedRefreshToken = Annotated[RefreshToken, Depends(verified_refresh_token)]


@raises(UnauthorizedError)
async def current_session_id(_user: CurrentUser, claims: AccessClaims) -> uuid.UUID:
    """The session the caller's access token was issued for (its `sid` claim): CurrentUser has
    checked the caller, and FastAPI decoded the token once for both."""
    try:
        return uuid.UUID(claims.all["sid"])
    except (KeyError, ValueError) as exc:
        raise UnauthorizedError(INVALID_TOKEN) from exc


CurrentSessionId = Annotated[uuid.UUID, Depends(current_session_id)]


@raises(NotFoundError)
def get_owned_session(session_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> AuthSession:
    """One of the caller's usable sessions. Anyone else's, or an ended one, is 404 alike."""
    auth_session = service.get_live_session(session=session, user=user, session_id=session_id)
    if auth_session is None:
        raise NotFoundError(NO_SESSION)
    return auth_session


OwnedSession = Annotated[AuthSession, Depends(get_owned_session)]
