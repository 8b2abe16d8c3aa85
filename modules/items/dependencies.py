import uuid
from typing import Annotated

from fastapi import Depends

from core import crud
from core.db import SessionDep
from core.errors import NotFoundError, raises
from modules.items import service
from modules.items.models import Item
from modules.users.api import CurrentUser


@raises(NotFoundError)
def get_owned_item(item_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Item:
    """The caller's item (a superuser reaches anyone's). Someone else's is 404, never 403,
    so nobody learns that it exists."""
    item = service.get_item(session=session, item_id=item_id, owner_id=crud.scope(user))
    if item is None:
        raise NotFoundError("Item not found")
    return item


OwnedItem = Annotated[Item, Depends(get_owned_item)]
