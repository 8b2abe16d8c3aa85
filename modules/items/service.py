import uuid
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from modules.items.models import Item
from modules.items.schemas import ItemCreate, ItemQuery, ItemUpdate


def create_item(*, session: Session, owner_id: uuid.UUID, item_in: ItemCreate) -> Item:
    item = Item.model_validate(item_in, update={"owner_id": owner_id})
    session.add(item)
    session.commit()
    return item


def get_item(*, session: Session, item_id: uuid.UUID) -> Item | None:
    return session.get(Item, item_id)


def list_items(*, session: Session, owner_id: uuid.UUID | None, query: ItemQuery) -> tuple[list[Item], int]:
    """One page of items and the total that match. `owner_id=None` lists everyone's."""
    filters: list[Any] = []
    if owner_id is not None:
        filters.append(col(Item.owner_id) == owner_id)
    if query.q:
        filters.append(col(Item.title).icontains(query.q, autoescape=True))
    if query.is_completed is not None:
        filters.append(col(Item.is_completed) == query.is_completed)
    column = col(getattr(Item, query.sort.removeprefix("-")))
    order = column.desc() if query.sort.startswith("-") else column.asc()
    total = session.exec(select(func.count()).select_from(Item).where(*filters)).one()
    items = session.exec(
        select(Item).where(*filters).order_by(order, col(Item.id)).offset(query.offset).limit(query.limit)
    ).all()
    return list(items), total


def update_item(*, session: Session, item: Item, item_in: ItemUpdate) -> Item:
    # Title and completion cannot be null; a null for them means "leave it".
    changes = {
        k: v for k, v in item_in.model_dump(exclude_unset=True).items() if v is not None or k == "description"
    }
    item.sqlmodel_update(changes)
    session.add(item)
    session.commit()
    return item


def delete_item(*, session: Session, item: Item) -> None:
    session.delete(item)
    session.commit()
