"""A benchmark database: the schema from Alembic, then users and items by bulk insert."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from core.security import hash_password
from modules.items.models import Item
from modules.users.models import User

ROOT = Path(__file__).resolve().parent.parent
USERS = 1_000
ITEMS = 50_000
# The signed-in user of scenarios 1-3 owns this many of the items; the rest are spread out.
OWNER_ITEMS = 5_000
PASSWORD = "bench-password"


@dataclass(frozen=True)
class Seeded:
    owner_id: uuid.UUID
    emails: list[str]
    owner_item_ids: list[uuid.UUID]

    @property
    def owner_email(self) -> str:
        return self.emails[0]


def migrate(engine: Engine) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["engine"] = engine
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def seed(
    engine: Engine,
    *,
    users: int = USERS,
    items: int = ITEMS,
    owner_items: int = OWNER_ITEMS,
    rounds: int = 12,
) -> Seeded:
    """Insert `users` accounts (all with PASSWORD) and `items` items; the first user owns `owner_items`."""
    # One hash for everyone: logins still pay the full bcrypt cost, seeding does not.
    hashed = hash_password(PASSWORD, rounds=rounds)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    user_rows = [
        {
            "id": uuid.uuid4(),
            "created_at": start,
            "updated_at": start,
            "email": f"user{n}@bench.example.com",
            "hashed_password": hashed,
            "full_name": f"Bench User {n}",
            "is_active": True,
            "is_superuser": False,
            "is_verified": True,
            "password_changed_at": start,
        }
        for n in range(users)
    ]
    item_rows: list[dict[str, Any]] = []
    for n in range(items):
        # Distinct creation times with microseconds, so sorting and formatting are exercised.
        created = start + timedelta(seconds=60 + n, microseconds=(n * 7919) % 1_000_000)
        owner = user_rows[0] if n < owner_items else user_rows[1 + n % (users - 1)]
        item_rows.append(
            {
                "id": uuid.uuid4(),
                "created_at": created,
                "updated_at": created,
                "title": f"Item number {n}",
                "description": None if n % 4 == 0 else f"What item {n} is about, in a sentence or so.",
                "is_completed": n % 3 == 0,
                "owner_id": owner["id"],
            }
        )
    with engine.begin() as connection:
        connection.execute(User.__table__.insert(), user_rows)  # type: ignore[attr-defined]
        connection.execute(Item.__table__.insert(), item_rows)  # type: ignore[attr-defined]
    # Fresh statistics, so both apps get the plans a long-lived database would.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return Seeded(
        owner_id=user_rows[0]["id"],
        emails=[row["email"] for row in user_rows],
        owner_item_ids=[row["id"] for row in item_rows[:owner_items]],
    )
