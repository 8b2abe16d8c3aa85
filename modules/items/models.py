import uuid

from pydantic import StrictBool
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from core.db import Table


class ItemBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    is_completed: StrictBool = False


class Item(ItemBase, Table, table=True):
    # The list query reads one owner's rows newest first, straight from this index.
    __table_args__ = (Index("ix_items_owner_id_created_at", "owner_id", "created_at"),)

    # A string foreign key: this module never imports the users module's tables.
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
