"""Sign-in sessions in /admin (who, from where, since when; ending one), and how /admin signs
people in: with the service's own accounts, checked by this module's `authenticate`.

A sign-in to /admin is a session of this module's, as a login is, so it ends as a login does
(signed out, ended in the view below or by its owner's `DELETE /auth/sessions/{id}`, or with every
sign-in of the account) and its owner sees it among their sessions. It has no refresh token: its
browser's cookie names it, and nothing can refresh it."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, not_
from sqlmodel import Session, select
from starlette.requests import Request

from core.db import utcnow
from core.ratelimit import enforce_rate_limit
from modules.admin.api import AdminPages, AdminView, ReferenceFilter, SignIn, row_action
from modules.auth import service
from modules.auth.metrics import login_failed
from modules.auth.models import AuthSession
from modules.auth.settings import AuthSettings
from modules.users.api import User, get_user

# What an /admin sign-in keeps as its refresh token's hash: no token's hash is empty, so no
# refresh token ever matches it.
NO_REFRESH_TOKEN = ""
# How stale an /admin sign-in's "last used" may grow: its pages write it at most this often.
TOUCH_EVERY = timedelta(minutes=1)


def in_admin(auth_session: AuthSession) -> bool:
    return auth_session.refresh_token_hash == NO_REFRESH_TOKEN


class AuthSessionAdmin(AdminView, model=AuthSession):
    name, name_plural = "Sign-in session", "Sign-in sessions"
    icon = "fa-solid fa-key"
    column_list = [
        "user_id",
        "refresh_token_hash",
        "user_agent",
        "ip_address",
        "created_at",
        "last_used_at",
        "expires_at",
    ]
    # The hash is shown only as what it tells (the formatter below), never itself.
    column_formatters = {"refresh_token_hash": lambda row, _name: "/admin" if in_admin(row) else "API"}
    column_details_exclude_list = ["refresh_token_hash"]
    column_searchable_list = ["ip_address", "user_agent"]
    column_sortable_list = ["created_at", "last_used_at", "expires_at"]
    column_default_sort = ("last_used_at", True)
    column_filters = [ReferenceFilter("user_id", title="Account")]
    column_labels = {
        "user_id": "Account",
        "refresh_token_hash": "Signed in to",
        "ip_address": "Address",
        "last_used_at": "Last used",
    }

    def list_query(self, request: Request) -> Select[Any]:
        """Sessions that can still be used: an ended one is no longer anybody's concern."""
        return select(AuthSession).where(not_(service.ended()))

    @row_action("End this session", when=lambda auth_session: auth_session.revoked_at is None)
    def end(self, *, session: Session, row: AuthSession, admin: Any) -> str:
        signed_out = (
            "its /admin sign-in opens no page" if in_admin(row) else "its refresh token no longer works"
        )
        service.revoke_session(session=session, auth_session=row)
        return f"Session ended: {signed_out}"


def start_admin_session(
    *,
    session: Session,
    user_id: uuid.UUID,
    lifetime: timedelta,
    user_agent: str | None,
    ip_address: str | None,
) -> uuid.UUID:
    """Sign in to /admin: a session without a refresh token, ending after `lifetime`."""
    auth_session_id = uuid.uuid4()
    auth_session = AuthSession(
        id=auth_session_id,
        user_id=user_id,
        refresh_token_hash=NO_REFRESH_TOKEN,
        expires_at=utcnow() + lifetime,
    )
    service.add_session(
        session=session, auth_session=auth_session, user_agent=user_agent, ip_address=ip_address
    )
    return auth_session_id


def admin_session_user(*, session: Session, auth_session_id: uuid.UUID) -> User | None:
    """The account of an /admin sign-in that holds by the rule a login's does (not ended, not
    expired, not older than the password); marks it used, now and then."""
    auth_session = session.get(AuthSession, auth_session_id)
    if auth_session is None or not in_admin(auth_session):  # a login's id never opens /admin
        return None
    user = get_user(session=session, user_id=auth_session.user_id)
    if (
        user is None
        or service.get_live_session(session=session, user=user, session_id=auth_session_id) is None
    ):
        return None
    if utcnow() - auth_session.last_used_at > TOUCH_EVERY:
        auth_session.last_used_at = utcnow()
        session.add(auth_session)
        session.commit()
        session.refresh(user)  # the commit expired it; /admin reads it after this session closes
    return user


def end_admin_session(*, session: Session, auth_session_id: uuid.UUID) -> uuid.UUID | None:
    """Sign out of /admin: the session ends on the server, for every copy of its cookie."""
    auth_session = session.get(AuthSession, auth_session_id)
    if auth_session is None or not in_admin(auth_session) or auth_session.revoked_at is not None:
        return None
    user_id = auth_session.user_id
    service.revoke_session(session=session, auth_session=auth_session)
    return user_id


def attempt_sign_in(request: Request) -> None:
    """A password tried at /admin spends the API's login budget: one budget per address."""
    enforce_rate_limit(request, "login", section=AuthSettings)


sign_in = SignIn(
    authenticate=service.authenticate,
    start=start_admin_session,
    load=admin_session_user,
    end=end_admin_session,
    attempt=attempt_sign_in,
    refused=login_failed,
)
pages = AdminPages(views=[AuthSessionAdmin], sign_in=sign_in)
