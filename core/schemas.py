"""Schema building blocks shared by every module."""

from collections.abc import Sequence
from typing import Generic, Self, TypeVar

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

T = TypeVar("T")


class RequestModel(SQLModel):
    """A request body or query: unknown fields are refused (422), so nothing is mass-assigned."""

    model_config = {"extra": "forbid"}


class PageParams(RequestModel):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[object], *, total: int, params: PageParams) -> Self:
        """A page of table rows; each row is read into the item schema by its attributes."""
        return cls.model_validate(
            {"items": items, "total": total, "limit": params.limit, "offset": params.offset},
            from_attributes=True,
        )
