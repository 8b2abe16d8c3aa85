"""The floor: the benchmark's routes as bare ASGI over the raw driver, one connection on the
event loop, no auth, logging, rate limiting or validation. Nothing the service does can be
faster on this machine, so its requests/s are the yardstick.

It serves the JSON the service serves for the same query (a test checks it), for one owner
fixed at startup. Run it with `uvicorn bench.floor:from_env --factory` and FLOOR_DATABASE_URL,
FLOOR_OWNER_ID set.
"""

import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import make_url

from core.config import API_PREFIX

ITEMS_PATH = f"{API_PREFIX}/items"
# Literal SQL with `?` placeholders; PostgreSQL's driver gets them as `%s`.
COUNT_SQL = "SELECT count(*) FROM items WHERE owner_id = ?"
PAGE_SQL = (
    "SELECT id, title, description, is_completed, owner_id, created_at, updated_at FROM items"
    " WHERE owner_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
)
GET_SQL = (
    "SELECT id, title, description, is_completed, owner_id, created_at, updated_at FROM items WHERE id = ?"
)
INSERT_SQL = (
    "INSERT INTO items (id, title, description, is_completed, owner_id, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
    " RETURNING id, title, description, is_completed, owner_id, created_at, updated_at"
)

Send = Callable[[dict[str, Any]], Any]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _SQLite:
    """SQLite as SQLAlchemy stores it: UUIDs as 32 hex digits, times as naive UTC text."""

    placeholder = "?"

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA busy_timeout=5000")

    def key(self, value: uuid.UUID) -> Any:
        return value.hex

    def item(self, row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "title": row[1],
            "description": row[2],
            "is_completed": bool(row[3]),
            "id": str(uuid.UUID(row[0])),
            "owner_id": str(uuid.UUID(row[4])),
            "created_at": datetime.fromisoformat(row[5]).isoformat() + "Z",
            "updated_at": datetime.fromisoformat(row[6]).isoformat() + "Z",
        }

    def stored_time(self, value: datetime) -> Any:
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def time(self, stored: Any) -> datetime:
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)

    def fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params).fetchall()


class _PostgreSQL:
    placeholder = "%s"

    def __init__(self, conninfo: str) -> None:
        import psycopg  # only needed for this backend, as in the service

        self.connection = psycopg.connect(conninfo, autocommit=True)

    def key(self, value: uuid.UUID) -> Any:
        return value

    def item(self, row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "title": row[1],
            "description": row[2],
            "is_completed": row[3],
            "id": str(row[0]),
            "owner_id": str(row[4]),
            "created_at": _iso(row[5]),
            "updated_at": _iso(row[6]),
        }

    def stored_time(self, value: datetime) -> Any:
        return value

    def time(self, stored: datetime) -> datetime:
        return stored.astimezone(UTC)

    def fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params).fetchall()


def connect(database_url: str) -> _SQLite | _PostgreSQL:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _SQLite(url.database or ":memory:")
    return _PostgreSQL(url.set(drivername="postgresql").render_as_string(hide_password=False))


class Floor:
    def __init__(self, database_url: str, owner_id: uuid.UUID) -> None:
        self.db = connect(database_url)
        self.owner = self.db.key(owner_id)
        self.count_sql, self.page_sql, self.get_sql, self.insert_sql = (
            sql.replace("?", self.db.placeholder) for sql in (COUNT_SQL, PAGE_SQL, GET_SQL, INSERT_SQL)
        )

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Any], send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        method, path = scope["method"], scope["path"]
        if path == "/health":
            await _respond(send, 200, {"status": "ok"})
        elif path == ITEMS_PATH and method == "GET":
            await _respond(send, 200, self.list_items(scope["query_string"]))
        elif path == ITEMS_PATH and method == "POST":
            await _respond(send, 201, self.create_item(await _body(receive)))
        elif path.startswith(ITEMS_PATH + "/") and method == "GET":
            item = self.get_item(path.removeprefix(ITEMS_PATH + "/"))
            await _respond(send, 200 if item else 404, item or {"detail": "Item not found"})
        else:
            await _respond(send, 404, {"detail": "Not Found"})

    def list_items(self, query_string: bytes) -> dict[str, Any]:
        query = dict(parse_qsl(query_string.decode()))
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        total = self.db.fetch(self.count_sql, (self.owner,))[0][0]
        rows = self.db.fetch(self.page_sql, (self.owner, limit, offset))
        return {
            "items": [self.db.item(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        rows = self.db.fetch(self.get_sql, (self.db.key(uuid.UUID(item_id)),))
        return self.db.item(rows[0]) if rows else None

    def create_item(self, body: bytes) -> dict[str, Any]:
        data = json.loads(body)
        now = self.db.stored_time(datetime.now(UTC))
        row = (
            self.db.key(uuid.uuid4()),
            data["title"],
            data.get("description"),
            data.get("is_completed", False),
            self.owner,
            now,
            now,
        )
        return self.db.item(self.db.fetch(self.insert_sql, row)[0])


async def _body(receive: Callable[[], Any]) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def from_env() -> Floor:
    return Floor(os.environ["FLOOR_DATABASE_URL"], uuid.UUID(os.environ["FLOOR_OWNER_ID"]))
