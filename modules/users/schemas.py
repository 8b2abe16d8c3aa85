import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StrictBool
from sqlmodel import Field, SQLModel

from core.schemas import Page, RequestModel
from core.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# Emails are compared and stored lower-cased: "A@x.io" and "a@x.io" are one account.
Email = Annotated[EmailStr, AfterValidator(str.lower)]
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
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
