"""The FastAPI floor: the benchmark's routes written the plain way with FastAPI, and no more.

An `async def` route, a header dependency that decodes the access token with PyJWT and reads
the user's row, the item rows read with the raw driver (the bare floor's one connection on the
event loop), pydantic models for the body and the response. No middleware, logging, rate
limiting or ORM. It prices the framework: what the service spends beyond it is ours to cut.

It serves the service's JSON for the same requests (tests/bench checks it). Run it with
`uvicorn bench.fastapi_floor:from_env --factory` and FLOOR_DATABASE_URL, FLOOR_SECRET_KEY set.
"""

import os
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Query, status
from pydantic import BaseModel

from bench.floor import COUNT_SQL, GET_SQL, INSERT_SQL, PAGE_SQL, connect
from core.config import API_PREFIX

USER_SQL = "SELECT is_active, password_changed_at FROM users WHERE id = ?"
ITEMS_PATH = f"{API_PREFIX}/items"


class ItemIn(BaseModel):
    title: str
    description: str | None = None
    is_completed: bool = False


class ItemOut(BaseModel):
    title: str
    description: str | None
    is_completed: bool
    id: uuid.UUID
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ItemPageOut(BaseModel):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


def create_app(database_url: str, secret_key: str) -> FastAPI:
    db = connect(database_url)
    count_sql, page_sql, get_sql, insert_sql, user_sql = (
        sql.replace("?", db.placeholder) for sql in (COUNT_SQL, PAGE_SQL, GET_SQL, INSERT_SQL, USER_SQL)
    )
    app = FastAPI()
    app.state.db = db

    def item(row: tuple[Any, ...]) -> ItemOut:
        return ItemOut(
            id=row[0],
            title=row[1],
            description=row[2],
            is_completed=row[3],
            owner_id=row[4],
            created_at=db.time(row[5]),
            updated_at=db.time(row[6]),
        )

    async def current_user(authorization: Annotated[str, Header()] = "") -> Any:
        """The owner key of an active user whose token was issued after their last password change."""
        try:
            claims = jwt.decode(authorization.removeprefix("Bearer "), secret_key, algorithms=["HS256"])
            user_id = db.key(uuid.UUID(claims["sub"]))
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or expired token") from exc
        rows = db.fetch(user_sql, (user_id,))
        if not rows or not rows[0][0] or claims["iat"] < db.time(rows[0][1]).timestamp():
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or expired token")
        return user_id

    owner_key = Depends(current_user)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(ITEMS_PATH)
    async def list_items(
        owner: Annotated[Any, owner_key], limit: Annotated[int, Query(le=100)] = 20, offset: int = 0
    ) -> ItemPageOut:
        total = db.fetch(count_sql, (owner,))[0][0]
        rows = db.fetch(page_sql, (owner, limit, offset))
        return ItemPageOut(items=[item(row) for row in rows], total=total, limit=limit, offset=offset)

    @app.get(ITEMS_PATH + "/{item_id}")
    async def read_item(item_id: uuid.UUID, owner: Annotated[Any, owner_key]) -> ItemOut:
        rows = db.fetch(get_sql, (db.key(item_id),))
        if not rows or rows[0][4] != owner:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Item not found")
        return item(rows[0])

    @app.post(ITEMS_PATH, status_code=status.HTTP_201_CREATED)
    async def create_item(item_in: ItemIn, owner: Annotated[Any, owner_key]) -> ItemOut:
        now = db.stored_time(datetime.now(UTC))
        values = (
            db.key(uuid.uuid4()),
            item_in.title,
            item_in.description,
            item_in.is_completed,
            owner,
            now,
            now,
        )
        return item(db.fetch(insert_sql, values)[0])

    return app


def from_env() -> FastAPI:
    return create_app(os.environ["FLOOR_DATABASE_URL"], os.environ["FLOOR_SECRET_KEY"])
