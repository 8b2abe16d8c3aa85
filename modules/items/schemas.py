import uuid
from datetime import datetime
from typing import Literal

from sqlmodel import Field

from core.schemas import ListQuery, Page, RequestModel
from modules.items.models import ItemBase


class ItemCreate(ItemBase, RequestModel):
    pass


class ItemUpdate(RequestModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    is_completed: bool | None = None


class ItemRead(ItemBase):
    id: uuid.UUID
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ItemPage(Page[ItemRead]):
    pass


class ItemQuery(ListQuery):
    q: str | None = Field(default=None, max_length=200, description="Text to find in the title")
    is_completed: bool | None = None
    sort: Literal["created_at", "-created_at", "title", "-title"] = "-created_at"
