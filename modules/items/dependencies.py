import uuid
from typing import Annotated

from fastapi import Depends

from core.db import SessionDep
from core.errors import NotFoundError
from modules.items import service
from modules.items.models import Item
from modules.users.dependencies import CurrentUser


def get_owned_item(item_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Item:
    """The item, if the caller owns it (superusers own everything). Otherwise 404, never 403,
    so nobody learns that someone else's item exists."""
    item = service.get_item(session=session, item_id=item_id)
    if item is None or (item.owner_id != user.id and not user.is_superuser):
        raise NotFoundError("Item not found")
    return item


OwnedItem = Annotated[Item, Depends(get_owned_item)]
