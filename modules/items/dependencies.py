from typing import Annotated

from core import crud
from modules.items.models import Item

# The caller's row that the path names (a superuser reaches anyone's). Someone else's is 404, never
# 403, so nobody learns that it exists. Read with the caller's standing, in one statement.
OwnedItem = Annotated[Item, crud.owned(Item)]
