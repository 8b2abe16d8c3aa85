"""Signed links mailed for one purpose each. The module that mails one declares its
`SignedLink`, with its purpose, page and words; core names none.

The token's type and audience are the purpose, so a link made for one purpose is refused for
any other, and never passes for a sign-in's token (`core.security`). Whatever a link proves
beyond its signature (that it was not used, that the account is still the one it was sent to)
its module checks, with claims of its own.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.config import Settings
from core.errors import ErrorCode, ServiceError
from core.mail import frontend_link
from core.security import ExpiredTokenError, InvalidTokenError, create_token, decode_token


@dataclass(frozen=True)
class SignedLink:
    """`UNSUBSCRIBE_LINK = SignedLink("unsubscribe", page="unsubscribe", invalid=..., expired=...)`:
    the link names a row by its id (the token's subject), and a bad one is refused, 400, with
    `invalid` (`link_invalid`) or `expired` (`link_expired`)."""

    purpose: str
    page: str  # the frontend page that takes the token and posts it back
    invalid: str
    expired: str

    def token(
        self, *, subject: uuid.UUID, secret: str, lifetime: timedelta, claims: dict[str, Any] | None = None
    ) -> tuple[str, datetime]:
        """The link's token, and when it stops working."""
        return create_token(
            subject=str(subject),
            token_type=self.purpose,
            audience=self.purpose,
            secret=secret,
            lifetime=lifetime,
            claims=claims,
        )

    def make(
        self,
        *,
        subject: uuid.UUID,
        settings: Settings,
        lifetime: timedelta,
        claims: dict[str, Any] | None = None,
    ) -> tuple[str, datetime]:
        """The link to mail, and when it stops working."""
        token, expires_at = self.token(
            subject=subject, secret=settings.secret_key, lifetime=lifetime, claims=claims
        )
        return frontend_link(settings, self.page, token), expires_at

    def read(self, token: str, *, secret: str) -> tuple[uuid.UUID, dict[str, Any]]:
        """The id the link names and the token's claims; a link that expired, or that is not one
        of this purpose's at all, is refused."""
        try:
            claims = decode_token(token, secret=secret, token_type=self.purpose, audience=self.purpose)
            return uuid.UUID(claims["sub"]), claims
        except ExpiredTokenError as exc:
            raise ServiceError(self.expired, code=ErrorCode.LINK_EXPIRED) from exc
        except (InvalidTokenError, ValueError) as exc:
            raise self.refused() from exc

    def refused(self) -> ServiceError:
        """The refusal of a link that reads well but names nothing that takes it (any more)."""
        return ServiceError(self.invalid, code=ErrorCode.LINK_INVALID)
