from typing import Annotated

from core import crud
from modules.items.models import Item
from modules.items.schemas import ItemQuery
from modules.users.api import OWNED

# The caller's row that the path names (a superuser reaches anyone's). Someone else's is 404, never
# 403, so nobody learns that it exists. Read with the caller's standing, in one statement.
OwnedItem = Annotated[Item, crud.scoped(Item, OWNED)]

# One page of the caller's items and how many match (a superuser's has
# everyone's), read with the caller's standing in one trip.
ItemList = Annotated[crud.Listed, crud.scoped_list(Item, ItemQuery, OWNED, search=Item.title)]
