from fastapi import APIRouter, status

from core import crud
from core.access import CurrentCaller
from core.db import SessionDep
from modules.items import service
from modules.items.dependencies import ItemList, OwnedItem
from modules.items.models import Item
from modules.items.schemas import ItemCreate, ItemPage, ItemRead, ItemUpdate

router = APIRouter()


@router.post("", response_model=ItemRead, status_code=status.HTTP_201_CREATED, responses=crud.SAVE_RESPONSES)
def create_item(item_in: ItemCreate, caller: CurrentCaller, session: SessionDep) -> Item:
    return service.create_item(session=session, owner_id=caller.id, item_in=item_in)


# Nothing here blocks (the dependency has loaded the rows), so `async def`: a `def` handler
# costs two trips to the threadpool, one to run it and one to check what it returns.
@router.get("", response_model=ItemPage)
async def list_items(items: ItemList) -> ItemPage:
    """The caller's items; a superuser sees everyone's."""
    return ItemPage.of(items.rows, total=items.total, params=items.query)


@router.get("/{item_id}", response_model=ItemRead)
async def read_item(item: OwnedItem) -> Item:
    return item


@router.patch("/{item_id}", response_model=ItemRead, responses=crud.SAVE_RESPONSES)
def update_item(item_in: ItemUpdate, item: OwnedItem, session: SessionDep) -> Item:
    return service.update_item(session=session, item=item, item_in=item_in)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_item(item: OwnedItem, session: SessionDep) -> None:
    service.delete_item(session=session, item=item)
