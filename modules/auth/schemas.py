import uuid
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Field, SQLModel

from core.schemas import RequestModel
from modules.users.api import Email, NewPassword

# Tokens mailed in links, like refresh tokens, are a few hundred bytes.
MAX_TOKEN_LENGTH = 4096
# A JWT's three base64url parts: what the schema says a token looks like. One of another shape is
# answered as one that does not verify (401 for a refresh token, 400 for a link).
JWT_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


def token_field() -> Any:
    return Field(max_length=MAX_TOKEN_LENGTH, schema_extra={"json_schema_extra": {"pattern": JWT_PATTERN}})


class TokenPair(SQLModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class LoginForm(SQLModel):
    """The OAuth2 password flow's form (what `/docs` sends): `username` is the email address.
    Not a RequestModel: whatever is wrong with the credentials, login answers the same 401."""

    # A form field sent empty is a missing one (422), so the schema says at least one character.
    username: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    grant_type: Literal["password"] | None = None
    scope: str = Field(default="", max_length=1024)
    client_id: str | None = Field(default=None, max_length=1024)
    client_secret: str | None = Field(default=None, max_length=1024)


class RefreshRequest(RequestModel):
    refresh_token: str = token_field()


class EmailRequest(RequestModel):
    """Ask for a verification or password reset link."""

    email: Email


class RequestAccepted(SQLModel):
    """The one answer to a link request, whether or not the address has an account."""

    detail: str


class VerificationConfirm(RequestModel):
    token: str = token_field()


class PasswordResetConfirm(RequestModel):
    token: str = token_field()
    new_password: NewPassword


class AuthSessionRead(SQLModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip_address: str | None
    current: bool = Field(description="The session of the access token making this request")
