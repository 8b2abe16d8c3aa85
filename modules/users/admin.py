"""Accounts in /admin: found by email, their flags switched, their sign-ins ended. The password
hash is never shown, and every change is the users service's, so its rules and stamps apply (a
superuser cannot demote or deactivate themselves; a deactivation ends every sign-in)."""

from sqladmin.filters import BooleanFilter
from sqlmodel import Session

from modules.admin.api import AdminPages, AdminView, row_action
from modules.users import service
from modules.users.models import User
from modules.users.schemas import UserUpdate


class UserAdmin(AdminView, model=User):
    name, name_plural = "User", "Users"
    icon = "fa-solid fa-users"
    column_list = ["email", "full_name", "is_active", "is_superuser", "is_verified", "created_at"]
    column_details_exclude_list = ["hashed_password"]
    column_searchable_list = ["email"]
    column_sortable_list = ["email", "created_at"]
    column_filters = [BooleanFilter("is_active"), BooleanFilter("is_superuser"), BooleanFilter("is_verified")]
    column_labels = {"password_changed_at": "Sign-ins valid since"}

    @row_action("Activate", when=lambda user: not user.is_active)
    def activate(self, *, session: Session, row: User, admin: User) -> str:
        self._change(session, row, admin, UserUpdate(is_active=True))
        return f"{row.email} can sign in again"

    @row_action("Deactivate", when=lambda user: user.is_active)
    def deactivate(self, *, session: Session, row: User, admin: User) -> str:
        self._change(session, row, admin, UserUpdate(is_active=False))
        return f"{row.email} is deactivated: every session and token of theirs has ended"

    @row_action("Mark verified", when=lambda user: not user.is_verified)
    def verify(self, *, session: Session, row: User, admin: User) -> str:
        self._change(session, row, admin, UserUpdate(is_verified=True))
        return f"{row.email} counts as verified"

    @row_action("Make superuser", when=lambda user: not user.is_superuser)
    def grant_superuser(self, *, session: Session, row: User, admin: User) -> str:
        self._change(session, row, admin, UserUpdate(is_superuser=True))
        return f"{row.email} is a superuser"

    @row_action("Revoke superuser", when=lambda user: user.is_superuser)
    def revoke_superuser(self, *, session: Session, row: User, admin: User) -> str:
        self._change(session, row, admin, UserUpdate(is_superuser=False))
        return f"{row.email} is no longer a superuser"

    @row_action("Sign out everywhere")
    def sign_out_everywhere(self, *, session: Session, row: User, admin: User) -> str:
        service.sign_out_everywhere(session=session, user=row)
        return f"Every session and token of {row.email} has ended"

    def _change(self, session: Session, user: User, admin: User, flags: UserUpdate) -> None:
        service.update_user(
            session=session, user=user, user_in=flags, rounds=self.settings.BCRYPT_ROUNDS, actor=admin
        )


pages = AdminPages(views=[UserAdmin])
