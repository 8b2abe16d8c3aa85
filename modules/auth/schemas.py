from typing import Literal

from sqlmodel import Field, SQLModel

from core.schemas import RequestModel


class TokenPair(SQLModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class RefreshRequest(RequestModel):
    refresh_token: str = Field(max_length=4096)
