"""Password hashing (bcrypt through passlib), signed tokens (JWT through PyJWT) and keyed digests."""

import hashlib
import hmac
import os
import threading
import time
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import jwt
from passlib.context import CryptContext

from core.db import utcnow

JWT_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 8
# Passwords are hashed whole whatever their length (below); this bound is only a cost bound.
MAX_PASSWORD_LENGTH = 128


class TokenType(StrEnum):
    """Core's own tokens, those of a sign-in. A module's tokens (a mailed link's, `core.links`)
    have a type of the module's naming, and an audience too."""

    ACCESS = "access"
    REFRESH = "refresh"


class InvalidTokenError(Exception):
    """The token is missing a claim, expired, tampered with, or of another type."""


class ExpiredTokenError(InvalidTokenError):
    """A genuine token of the right type whose time is up."""


@lru_cache
def _password_context(rounds: int) -> CryptContext:
    # bcrypt reads 72 bytes at most and stops at a NUL; bcrypt_sha256 gives it an HMAC-SHA256 of
    # the whole password instead, so every character counts and no limit in bytes (which JSON
    # Schema cannot state) is needed. Hashes made by plain bcrypt still verify.
    return CryptContext(
        schemes=["bcrypt_sha256", "bcrypt"], bcrypt_sha256__rounds=rounds, bcrypt__rounds=rounds
    )


# bcrypt keeps a core busy for its whole run (without the GIL). If every threadpool thread could
# hash at once, the event loop would wait its turn for a core, and every request with it; so
# hashing gets all cores but one, and logins queue rather than the whole service.
_hashing = threading.BoundedSemaphore(max(1, (os.cpu_count() or 1) - 1))

_DUMMY_PASSWORD = "timing-equaliser"


@lru_cache
def _dummy_hash(rounds: int) -> str:
    return hash_password(_DUMMY_PASSWORD, rounds=rounds)


def hash_password(password: str, *, rounds: int) -> str:
    with _hashing:
        hashed: str = _password_context(rounds).hash(password)
    return hashed


def verify_password(password: str, hashed_password: str | None, *, rounds: int) -> bool:
    """Check a password, spending the same time when there is nothing to check it against.

    Without a hash (unknown account), or for a password the hash cannot be checked against (a
    plain bcrypt hash from before bcrypt_sha256, given more than its 72 bytes or a NUL), a dummy
    hash is verified instead, so the response time does not tell whether the account exists.
    """
    context = _password_context(rounds)
    if hashed_password is not None:
        try:
            with _hashing:
                return bool(context.verify(password, hashed_password))
        except ValueError:  # passlib's refusal of what plain bcrypt cannot read
            pass
    dummy = _dummy_hash(rounds)  # made (once) before taking the semaphore, which making it takes
    with _hashing:
        context.verify(_DUMMY_PASSWORD, dummy)
    return False


def keyed_digest(secret: str, *parts: str) -> str:
    """HMAC-SHA256 of `parts` (one a line) under `secret`, in hex: it changes with any of them and
    tells nothing about them to whoever lacks the secret."""
    return hmac.new(secret.encode(), "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def create_token(
    *,
    subject: str,
    token_type: str,
    secret: str,
    lifetime: timedelta,
    claims: dict[str, Any] | None = None,
    audience: str | None = None,
) -> tuple[str, datetime]:
    """Return a signed token and the moment it expires. A token with an `audience` is refused
    wherever that audience is not asked for, so a mailed link's never passes for a sign-in's."""
    now = utcnow()
    expires_at = now + lifetime
    payload = {
        **(claims or {}),
        "sub": subject,
        "type": str(token_type),
        # To the microsecond, not the whole second: a token issued just after a sign-out
        # everywhere must not pass for one issued before it (`iat` may be any JSON number).
        "iat": now.timestamp(),
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
    }
    if audience:
        payload["aud"] = audience
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM), expires_at


def decode_token(token: str, *, secret: str, token_type: str, audience: str | None = None) -> dict[str, Any]:
    """Verify signature, expiry and type. The algorithm is pinned: `alg: none` never passes.

    A client sends the same access token with every request for its 15 minutes: its signature is
    checked once and remembered (tokens that fail are never remembered), and its expiry every time.
    """
    claims = _verified(token, secret, str(token_type), audience)
    if claims["exp"] <= time.time():
        raise ExpiredTokenError("Signature has expired")
    return dict(claims)


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str, token_type: str, audience: str | None) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            options={"require": ["sub", "type", "iat", "exp", "jti", *(["aud"] if audience else [])]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise ExpiredTokenError(str(exc)) from exc
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    if claims["type"] != token_type:
        raise InvalidTokenError(f"expected a {token_type} token")
    return claims
