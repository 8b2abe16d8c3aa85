from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from core.config import SettingsDep
from core.errors import UnauthorizedError
from core.security import InvalidTokenError, TokenType, decode_token
from modules.auth.schemas import RefreshRequest
from modules.auth.service import INVALID_REFRESH_TOKEN


@dataclass(frozen=True)
class RefreshToken:
    token: str
    claims: dict[str, Any]


def verified_refresh_token(body: RefreshRequest, settings: SettingsDep) -> RefreshToken:
    """The refresh token in the body, signature and type checked; an access token is refused."""
    try:
        claims = decode_token(body.refresh_token, secret=settings.secret_key, token_type=TokenType.REFRESH)
    except InvalidTokenError as exc:
        raise UnauthorizedError(INVALID_REFRESH_TOKEN) from exc
    return RefreshToken(token=body.refresh_token, claims=claims)


VerifiedRefreshToken = Annotated[RefreshToken, Depends(verified_refresh_token)]
