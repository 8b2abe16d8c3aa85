"""Sign-in sessions in /admin (who, from where, since when; ending one), and how /admin signs
people in: with the service's own accounts, checked by this module's `authenticate`, each
sign-in one of this module's sessions (without a refresh token), which signing out ends."""

from typing import Any

from sqlalchemy import Select, not_
from sqlmodel import Session, select
from starlette.requests import Request

from core.admin import AdminView, ReferenceFilter, SignIn, row_action
from modules.auth import service
from modules.auth.models import AuthSession


class AuthSessionAdmin(AdminView, model=AuthSession):
    name, name_plural = "Sign-in session", "Sign-in sessions"
    icon = "fa-solid fa-key"
    column_list = [
        "user_id",
        "is_admin_sign_in",
        "user_agent",
        "ip_address",
        "created_at",
        "last_used_at",
        "expires_at",
    ]
    column_details_exclude_list = ["refresh_token_hash"]
    column_searchable_list = ["ip_address", "user_agent"]
    column_sortable_list = ["created_at", "last_used_at", "expires_at"]
    column_default_sort = ("last_used_at", True)
    column_filters = [ReferenceFilter("user_id", title="Account")]
    column_labels = {
        "user_id": "Account",
        "is_admin_sign_in": "In /admin",
        "ip_address": "Address",
        "last_used_at": "Last used",
    }

    def list_query(self, request: Request) -> Select[Any]:
        """Sessions that can still be used: an ended one is no longer anybody's concern."""
        return select(AuthSession).where(not_(service.ended()))

    @row_action("End this session", when=lambda auth_session: auth_session.revoked_at is None)
    def end(self, *, session: Session, row: AuthSession, admin: Any) -> str:
        service.revoke_session(session=session, auth_session=row)
        if row.is_admin_sign_in:
            return "Session ended: its /admin sign-in no longer opens a page"
        return "Session ended: its refresh token no longer works"


sign_in = SignIn(
    authenticate=service.authenticate,
    start=service.start_admin_session,
    load=service.admin_session_user,
    end=service.end_admin_session,
)
views = [AuthSessionAdmin]
