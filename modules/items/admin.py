"""Items in /admin: modules.admin finds this file and mounts the views its `pages` hand over.

A list with the API's search, sorts and filters, and forms that save through the service,
checked with the API's own schemas. What the pages show is sqladmin's `ModelView` options: edit
them here.
"""

import uuid

from sqladmin.filters import BooleanFilter
from sqlmodel import Session

from modules.admin.api import AdminPages, OwnedEntityView, ReferenceFilter
from modules.items import service
from modules.items.models import Item
from modules.items.schemas import ItemCreate, ItemUpdate


class ItemAdmin(OwnedEntityView, model=Item):
    name, name_plural = "Item", "Items"
    column_list = ["title", "is_completed", "owner_id", "created_at"]
    column_searchable_list = ["title"]
    column_sortable_list = ["created_at", "title"]
    column_filters = [BooleanFilter("is_completed"), ReferenceFilter("owner_id")]
    form_columns = ["title", "description", "is_completed"]
    create_schema, update_schema = ItemCreate, ItemUpdate

    def create(self, *, session: Session, owner_id: uuid.UUID, data: ItemCreate) -> Item:
        return service.create_item(session=session, owner_id=owner_id, item_in=data)

    def update(self, *, session: Session, row: Item, data: ItemUpdate) -> Item:
        return service.update_item(session=session, item=row, item_in=data)

    def delete(self, *, session: Session, row: Item) -> None:
        service.delete_item(session=session, item=row)


pages = AdminPages(views=[ItemAdmin])
