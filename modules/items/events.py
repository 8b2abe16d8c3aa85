"""What happens to items, for other modules to react to (`core.events`)."""

import uuid

from core.events import Event


class ItemCreated(Event):
    item_id: uuid.UUID
    owner_id: uuid.UUID


class ItemUpdated(Event):
    item_id: uuid.UUID
    owner_id: uuid.UUID


class ItemDeleted(Event):
    item_id: uuid.UUID
    owner_id: uuid.UUID
