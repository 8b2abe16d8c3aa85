"""The event: a small immutable record of what happened, published by one module for others."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from core.db import utcnow


def owner(module: str) -> str:
    """The module a piece of code belongs to: `modules.<name>.events` -> `<name>`."""
    parts = module.split(".")
    return parts[1] if parts[0] == "modules" and len(parts) > 1 else module


class Event(BaseModel):
    """Something that happened, in the past tense (`UserDeactivated`), carrying ids, never rows.

    A subclass lives in the publishing module's `events.py`. Its `name` (`<module>.<Event>`,
    from the module and the class) and its fields are a contract with every listener: a change
    an older listener could not read bumps `version`. Fields a listener does not know are
    ignored, so adding one does not.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: ClassVar[str]
    version: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = f"{owner(cls.__module__)}.{cls.__name__}"
