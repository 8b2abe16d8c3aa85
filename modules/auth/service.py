import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import Session, col, select

from core.config import API_PREFIX, Settings
from core.db import utcnow
from core.errors import ForbiddenError, UnauthorizedError
from core.security import TokenType, create_token, verify_password
from modules.auth import metrics
from modules.auth.models import IP_ADDRESS_MAX_LENGTH, USER_AGENT_MAX_LENGTH, AuthSession
from modules.auth.schemas import TokenPair
from modules.auth.settings import AuthSettings
from modules.users.api import User, get_user, get_user_by_email, sign_out_everywhere

INVALID_REFRESH_TOKEN = "Invalid or expired refresh token"

BAD_CREDENTIALS = "Incorrect email or password"


def _fingerprint(token: str) -> str:
    """What is stored of a refresh token: enough to recognise it, useless if the table leaks."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    *,
    session: Session,
    email: str,
    password: str,
    settings: Settings,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> TokenPair:
    """A login with a password: a new session and its tokens. One answer for every failure."""
    user = authenticate(session=session, email=email, password=password, rounds=settings.BCRYPT_ROUNDS)
    if user is None:
        metrics.login_failed()
        raise UnauthorizedError(BAD_CREDENTIALS)
    # Said only to someone who knows the password.
    if settings.section(AuthSettings).REQUIRE_VERIFIED_EMAIL and not user.is_verified:
        raise ForbiddenError(
            "Email address not verified: follow the link sent to it, "
            f"or ask for a new one at POST {API_PREFIX}/auth/verify/request"
        )
    return start_session(
        session=session, user=user, settings=settings, user_agent=user_agent, ip_address=ip_address
    )


def authenticate(*, session: Session, email: str, password: str, rounds: int) -> User | None:
    """The active user with these credentials, or None. Costs one bcrypt check either way."""
    user = get_user_by_email(session=session, email=email)
    matches = verify_password(password, user.hashed_password if user else None, rounds=rounds)
    return user if user is not None and matches and user.is_active else None


@dataclass(frozen=True)
class _Issued:
    tokens: TokenPair
    refresh_token_hash: str
    expires_at: datetime


def _issue(*, user_id: uuid.UUID, session_id: uuid.UUID, settings: Settings) -> _Issued:
    """A new token pair for a session, with what the session must remember of it."""
    subject, claims = str(user_id), {"sid": str(session_id)}
    lifetime = timedelta(minutes=settings.section(AuthSettings).ACCESS_TOKEN_EXPIRE_MINUTES)
    access_token, _ = create_token(
        subject=subject,
        token_type=TokenType.ACCESS,
        secret=settings.secret_key,
        lifetime=lifetime,
        claims=claims,
    )
    refresh_token, expires_at = create_token(
        subject=subject,
        token_type=TokenType.REFRESH,
        secret=settings.secret_key,
        lifetime=timedelta(days=settings.section(AuthSettings).REFRESH_TOKEN_EXPIRE_DAYS),
        claims=claims,
    )
    tokens = TokenPair(
        access_token=access_token, refresh_token=refresh_token, expires_in=int(lifetime.total_seconds())
    )
    return _Issued(tokens=tokens, refresh_token_hash=_fingerprint(refresh_token), expires_at=expires_at)


def start_session(
    *,
    session: Session,
    user: User,
    settings: Settings,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> TokenPair:
    """A new login."""
    session_id = uuid.uuid4()
    issued = _issue(user_id=user.id, session_id=session_id, settings=settings)
    auth_session = AuthSession(
        id=session_id,
        user_id=user.id,
        refresh_token_hash=issued.refresh_token_hash,
        expires_at=issued.expires_at,
    )
    add_session(session=session, auth_session=auth_session, user_agent=user_agent, ip_address=ip_address)
    return issued.tokens


def add_session(
    *, session: Session, auth_session: AuthSession, user_agent: str | None, ip_address: str | None
) -> None:
    """Save a new session, with the client it started from. The user's dead sessions are deleted
    on the way, so their rows stay few."""
    prune_sessions(session=session, user_id=auth_session.user_id)
    # Both come from the client as it likes (a proxy header, a socket path): cut to fit.
    auth_session.user_agent = user_agent[:USER_AGENT_MAX_LENGTH] if user_agent else None
    auth_session.ip_address = ip_address[:IP_ADDRESS_MAX_LENGTH] if ip_address else None
    session.add(auth_session)
    session.commit()


def _live_session(session: Session, claims: dict[str, Any]) -> AuthSession:
    """The session a verified refresh token belongs to, if it can still be used."""
    try:
        session_id = uuid.UUID(claims["sid"])
    except (KeyError, ValueError) as exc:
        raise UnauthorizedError(INVALID_REFRESH_TOKEN) from exc
    auth_session = session.get(AuthSession, session_id)
    if (
        auth_session is None
        or str(auth_session.user_id) != claims["sub"]
        or auth_session.revoked_at is not None
        or auth_session.expires_at <= utcnow()
    ):
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    return auth_session


def _revoke(session: Session, auth_session: AuthSession) -> None:
    auth_session.revoked_at = utcnow()
    session.add(auth_session)
    session.commit()


def _live(user: User) -> list[Any]:
    """What makes one of the user's sessions usable: not revoked, not expired, not older than
    the password."""
    return [
        col(AuthSession.user_id) == user.id,
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > utcnow(),
        col(AuthSession.created_at) >= user.password_changed_at,
    ]


def list_sessions(*, session: Session, user: User) -> list[AuthSession]:
    """The user's usable sessions, the most recently used first."""
    found = session.exec(
        select(AuthSession).where(*_live(user)).order_by(col(AuthSession.last_used_at).desc())
    )
    return list(found.all())


def get_live_session(*, session: Session, user: User, session_id: uuid.UUID) -> AuthSession | None:
    return session.exec(select(AuthSession).where(col(AuthSession.id) == session_id, *_live(user))).first()


def revoke_session(*, session: Session, auth_session: AuthSession) -> None:
    _revoke(session, auth_session)


def revoke_all_sessions(*, session: Session, user: User) -> None:
    """End every session of the user: no refresh token of theirs works any more, nor any access
    token issued before now."""
    mark_sessions_revoked(session=session, user_id=user.id)
    sign_out_everywhere(session=session, user=user)  # commits the revocations with the stamp


def mark_sessions_revoked(*, session: Session, user_id: uuid.UUID) -> int:
    """Mark the user's open sessions revoked (in the session's transaction); return how many.
    Doing it again changes nothing, so a listener may run it twice."""
    revoked: int = (
        session.connection()
        .execute(
            update(AuthSession)
            .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
        .rowcount
    )
    return revoked


def ended() -> ColumnElement[bool]:
    """Which sessions can never be used again: revoked, expired, or older than their account's
    password (signing out everywhere or deactivation stamp it too)."""
    password_changed_at = (
        select(User.password_changed_at).where(col(User.id) == col(AuthSession.user_id)).scalar_subquery()
    )
    return or_(
        col(AuthSession.revoked_at).is_not(None),
        col(AuthSession.expires_at) <= utcnow(),
        col(AuthSession.created_at) < password_changed_at,
    )


def prune_sessions(*, session: Session, user_id: uuid.UUID | None = None) -> int:
    """Delete sessions that can never be used again (of one user, or of everyone); return how many."""
    statement = delete(AuthSession).where(ended())
    if user_id is not None:
        statement = statement.where(col(AuthSession.user_id) == user_id)
    deleted = session.connection().execute(statement).rowcount
    session.commit()
    return deleted


def rotate_session(
    *, session: Session, claims: dict[str, Any], refresh_token: str, settings: Settings
) -> TokenPair:
    """Swap a refresh token for a new pair. An already-used token revokes its whole session."""
    auth_session = _live_session(session, claims)
    user = get_user(session=session, user_id=auth_session.user_id)
    if user is None or not user.is_active or auth_session.created_at < user.password_changed_at:
        _revoke(session, auth_session)
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    issued = _issue(user_id=user.id, session_id=auth_session.id, settings=settings)
    # Compare-and-swap: of two requests racing with one token, exactly one wins.
    swapped = session.connection().execute(
        update(AuthSession)
        .where(col(AuthSession.id) == auth_session.id)
        .where(col(AuthSession.refresh_token_hash) == _fingerprint(refresh_token))
        .where(col(AuthSession.revoked_at).is_(None))
        .values(
            refresh_token_hash=issued.refresh_token_hash,
            expires_at=issued.expires_at,
            last_used_at=utcnow(),
        )
    )
    if swapped.rowcount != 1:
        session.rollback()
        _revoke(session, auth_session)
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    session.commit()
    return issued.tokens


def end_session(*, session: Session, claims: dict[str, Any]) -> None:
    """Log out: the session's refresh token stops working. Ending an ended session is a no-op."""
    try:
        auth_session = _live_session(session, claims)
    except UnauthorizedError:
        return
    _revoke(session, auth_session)
