"""Organizations, memberships and invitations in /admin: found by name, by organization and
account, by address; a member's role changed, an invitation revoked. Each button is the service's,
so its rules hold: the operator, a superuser, acts as an owner (an organization keeps an owner).
An invitation's nonce digest is never shown."""

from collections.abc import Callable

from sqlmodel import Session

from modules.admin.api import AdminPages, AdminView, Operator, ReferenceFilter, row_action
from modules.organizations import service
from modules.organizations.models import Invitation, Membership, Organization
from modules.organizations.permissions import Role
from modules.organizations.tenancy import Member


class OrganizationAdmin(AdminView, model=Organization):
    name, name_plural = "Organization", "Organizations"
    icon = "fa-solid fa-building"
    column_list = ["name", "created_at"]
    column_searchable_list = ["name"]
    column_sortable_list = ["name", "created_at"]


def _make(role: Role) -> Callable[..., str]:
    """A button giving a member `role`, shown on memberships with another one."""

    @row_action(f"Make {role}", when=lambda membership: membership.role != role)
    def change(self: AdminView, *, session: Session, row: Membership, admin: Operator) -> str:
        operator = Member(organization_id=row.organization_id, user_id=admin.id, role=None, is_superuser=True)
        service.change_role(session=session, caller=operator, user_id=row.user_id, role=role)
        return f"Now {role} in this organization"

    return change


class MembershipAdmin(AdminView, model=Membership):
    name, name_plural = "Membership", "Memberships"
    icon = "fa-solid fa-people-group"
    column_list = ["organization_id", "user_id", "role", "created_at"]
    column_sortable_list = ["role", "created_at"]
    column_filters = [ReferenceFilter("organization_id"), ReferenceFilter("user_id", title="Account")]
    column_labels = {"user_id": "Account"}

    make_owner = _make(Role.OWNER)
    make_admin = _make(Role.ADMIN)
    make_member = _make(Role.MEMBER)
    make_viewer = _make(Role.VIEWER)


class InvitationAdmin(AdminView, model=Invitation):
    name, name_plural = "Invitation", "Invitations"
    icon = "fa-solid fa-envelope"
    column_list = ["email", "organization_id", "role", "invited_by", "expires_at", "created_at"]
    # What would tell a link's nonce from another's: kept out of every page.
    column_details_exclude_list = ["nonce"]
    column_searchable_list = ["email"]
    column_sortable_list = ["email", "expires_at", "created_at"]
    column_filters = [ReferenceFilter("organization_id")]

    @row_action("Revoke")
    def revoke(self, *, session: Session, row: Invitation, admin: Operator) -> str:
        email = row.email  # the row is gone once revoked
        service.revoke(session=session, invitation=row)
        return f"The invitation of {email} is revoked: its link no longer works"


pages = AdminPages(views=[OrganizationAdmin, MembershipAdmin, InvitationAdmin])
