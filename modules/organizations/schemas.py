import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field

from core.schemas import CreatedAtSort, ListQuery, OneLine, Page, RequestModel
from modules.organizations.permissions import Role
from modules.users.api import Email


# Shown on one line: in the subject and body of every invitation mailed, in every list.
class OrganizationCreate(RequestModel):
    name: OneLine = Field(min_length=1, max_length=200)


class OrganizationUpdate(RequestModel):
    name: OneLine | None = Field(default=None, min_length=1, max_length=200)


class OrganizationRead(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    # The caller's role in it; None for a superuser who is no member.
    role: Role | None


class OrganizationPage(Page[OrganizationRead]):
    pass


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str | None
    role: Role
    created_at: datetime


class MemberPage(Page[MemberRead]):
    pass


class MemberUpdate(RequestModel):
    role: Role


class InvitationCreate(RequestModel):
    email: Email
    role: Role = Role.MEMBER


class InvitationRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime


class InvitationPage(Page[InvitationRead]):
    pass


class InvitationAccept(RequestModel):
    token: str = Field(min_length=1, max_length=2000)


class InvitationQuery(ListQuery):
    sort: CreatedAtSort = CreatedAtSort.CREATED_AT_DESC
