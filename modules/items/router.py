from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from core import crud
from core.access import CurrentCaller
from core.db import SessionDep
from modules.items import service
from modules.items.dependencies import ItemList, OwnedItem
from modules.items.models import Item
from modules.items.schemas import ItemCreate, ItemPage, ItemRead, ItemUpdate

router = APIRouter()

# Every handler is `async def`. A write goes to the threadpool in one trip (`run_in_threadpool`):
# a `def` handler would cost two, one to run it and one more to check what it returns.
# Reads and lists block on nothing (their dependency has loaded the rows), so they make none.


@router.post("", response_model=ItemRead, status_code=status.HTTP_201_CREATED, responses=crud.SAVE_RESPONSES)
async def create_item(item_in: ItemCreate, caller: CurrentCaller, session: SessionDep) -> Item:
    return await run_in_threadpool(service.create_item, session=session, owner_id=caller.id, item_in=item_in)


@router.get("", response_model=ItemPage)
async def list_items(items: ItemList) -> ItemPage:
    """The caller's items; a superuser sees everyone's."""
    return ItemPage.of(items.rows, total=items.total, params=items.query)


@router.get("/{item_id}", response_model=ItemRead)
async def read_item(item: OwnedItem) -> Item:
    return item


@router.patch("/{item_id}", response_model=ItemRead, responses=crud.SAVE_RESPONSES)
async def update_item(item_in: ItemUpdate, item: OwnedItem, session: SessionDep) -> Item:
    return await run_in_threadpool(service.update_item, session=session, item=item, item_in=item_in)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item: OwnedItem, session: SessionDep) -> None:
    await run_in_threadpool(service.delete_item, session=session, item=item)
