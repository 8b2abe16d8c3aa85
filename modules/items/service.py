import uuid

from sqlmodel import Session

from core import crud
from core.events import publish
from modules.items.events import ItemCreated, ItemDeleted, ItemUpdated
from modules.items.models import Item
from modules.items.schemas import ItemCreate, ItemUpdate


def create_item(*, session: Session, owner_id: uuid.UUID, item_in: ItemCreate) -> Item:
    item = Item.model_validate(item_in, update={"owner_id": owner_id})
    publish(session, ItemCreated(item_id=item.id, owner_id=owner_id))
    return crud.save(session, item)


def update_item(*, session: Session, item: Item, item_in: ItemUpdate) -> Item:
    item.sqlmodel_update(crud.changes(Item, item_in))
    publish(session, ItemUpdated(item_id=item.id, owner_id=item.owner_id))
    return crud.save(session, item)


def delete_item(*, session: Session, item: Item) -> None:
    publish(session, ItemDeleted(item_id=item.id, owner_id=item.owner_id))
    crud.delete(session, item)
