from typing import Annotated

from core import crud
from modules.items.models import Item
from modules.items.schemas import ItemQuery

# The caller's row that the path names (a superuser reaches anyone's). Someone else's is 404, never
# 403, so nobody learns that it exists. Read with the caller's standing, in one statement.
OwnedItem = Annotated[Item, crud.owned(Item)]

# One page of the caller's items and how many match (a superuser's has
# everyone's), read with the caller's standing in one trip.
ItemList = Annotated[crud.Listed, crud.owned_list(Item, ItemQuery, search=Item.title)]
