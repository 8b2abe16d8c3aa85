import uuid
from datetime import datetime

from pydantic import StrictBool
from sqlmodel import Field

from core.schemas import ListQuery, Page, RequestModel, SortOrder
from modules.items.models import ItemBase


class ItemCreate(ItemBase, RequestModel):
    pass


class ItemUpdate(RequestModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    is_completed: StrictBool | None = None


class ItemRead(ItemBase):
    id: uuid.UUID
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ItemPage(Page[ItemRead]):
    pass


class ItemSort(SortOrder):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    TITLE = "title"
    TITLE_DESC = "-title"


class ItemQuery(ListQuery):
    q: str | None = Field(default=None, max_length=200, description="Text to find in the title")
    is_completed: bool | None = None
    sort: ItemSort = ItemSort.CREATED_AT_DESC
