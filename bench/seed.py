"""A benchmark database: the schema from Alembic, then users and items by bulk insert."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Column, Engine, MetaData, Table, Uuid, text

from core.security import hash_password
from modules.items.models import Item
from modules.organizations.models import Membership, Organization
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
    organization_id: uuid.UUID | None  # the owner's organization, in scenario 2b's database
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
    organizations: bool = False,
) -> Seeded:
    """Insert `users` accounts (all with PASSWORD) and `items` items; the first user owns `owner_items`.

    With `organizations`, in a database whose items are an organization's (scenario 2b), each
    account is the only member of an organization of its own, which holds the items it would
    own."""
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
    tables: dict[str, Table] = {"users": User.__table__, "items": Item.__table__}  # type: ignore[dict-item]
    group_rows: dict[str, list[dict[str, Any]]] = {}
    if organizations:
        tables |= {
            "organizations": Organization.__table__,  # type: ignore[dict-item]
            "memberships": Membership.__table__,  # type: ignore[dict-item]
            "items": _items_of_organizations(),
        }
        group_rows = _organizations(user_rows, item_rows)
    with engine.begin() as connection:
        connection.execute(tables["users"].insert(), user_rows)
        for name, rows in group_rows.items():
            connection.execute(tables[name].insert(), rows)
        connection.execute(tables["items"].insert(), item_rows)
    # Fresh statistics, so both apps get the plans a long-lived database would.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return Seeded(
        owner_id=user_rows[0]["id"],
        organization_id=group_rows["organizations"][0]["id"] if organizations else None,
        emails=[row["email"] for row in user_rows],
        owner_item_ids=[row["id"] for row in item_rows[:owner_items]],
    )


def _organizations(user_rows: list[dict[str, Any]], item_rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """An organization per account, the account its one member (with the role that reads, no
    more), and each item moved from its owner to the owner's organization."""
    organization_of = {user["id"]: uuid.uuid4() for user in user_rows}
    stamp = {"created_at": user_rows[0]["created_at"], "updated_at": user_rows[0]["updated_at"]}
    for item in item_rows:
        item["organization_id"] = organization_of[item.pop("owner_id")]
    return {
        "organizations": [
            {"id": organization, "name": f"Organization of {user}", **stamp}
            for user, organization in organization_of.items()
        ],
        "memberships": [
            {"id": uuid.uuid4(), "organization_id": organization, "user_id": user, "role": "viewer", **stamp}
            for user, organization in organization_of.items()
        ],
    }


def _items_of_organizations() -> Table:
    """Scenario 2b's items table: this code's, an organization's column in place of the owner's."""
    columns = [
        Column(column.name, column.type, primary_key=column.primary_key, nullable=column.nullable)
        for column in Item.__table__.c  # type: ignore[attr-defined]
        if column.name != "owner_id"
    ]
    return Table("items", MetaData(), *columns, Column("organization_id", Uuid, nullable=False))
