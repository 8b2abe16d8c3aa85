import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StrictBool
from sqlmodel import Field, SQLModel

from core.schemas import Page, RequestModel
from core.security import MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH


def _check_password(password: str) -> str:
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    return password


# Emails are compared and stored lower-cased: "A@x.io" and "a@x.io" are one account.
Email = Annotated[EmailStr, AfterValidator(str.lower)]
# The schema's maxLength counts characters; the limit is bytes, which the validator checks.
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        description=f"{MIN_PASSWORD_LENGTH} characters to {MAX_PASSWORD_BYTES} bytes in UTF-8",
        schema_extra={"json_schema_extra": {"maxLength": MAX_PASSWORD_BYTES}},
    ),
    AfterValidator(_check_password),
]
FullName = Annotated[str | None, Field(max_length=255)]


class UserRegister(RequestModel):
    """Self-registration: privilege fields do not exist here, so they cannot be set."""

    email: Email
    password: NewPassword
    full_name: FullName = None


class UserCreate(UserRegister):
    """A superuser creating an account."""

    is_active: StrictBool = True
    is_superuser: StrictBool = False
    # A superuser vouches for the address unless they say otherwise.
    is_verified: StrictBool = True


class UserUpdateMe(RequestModel):
    email: Email | None = None
    full_name: FullName = None


class UserUpdate(UserUpdateMe):
    """A superuser editing any account."""

    password: NewPassword | None = None
    is_active: StrictBool | None = None
    is_superuser: StrictBool | None = None
    is_verified: StrictBool | None = None


class PasswordChange(RequestModel):
    current_password: str = Field(max_length=1024)
    new_password: NewPassword


class UserRead(SQLModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_superuser: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime


class UserPage(Page[UserRead]):
    pass
