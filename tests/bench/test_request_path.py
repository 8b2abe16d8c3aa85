"""The request path of the example entity, statement by statement: what every scaffolded
entity's routes cost (docs/performance.md). A test of the template repository: it reads items."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)


@pytest.fixture
def an_item(client: httpx.AsyncClient, user_headers: dict[str, str]) -> Callable[[], Any]:
    async def make() -> str:
        r = await client.post("/api/v1/items", json={"title": "milk"}, headers=user_headers)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    return make


async def test_reading_an_owned_row_is_one_statement_with_the_callers_standing(
    app: FastAPI, client: httpx.AsyncClient, user_headers: dict[str, str], an_item: Callable[[], Any]
) -> None:
    item_id = await an_item()
    with statements(app) as seen:
        r = await client.get(f"/api/v1/items/{item_id}", headers=user_headers)

    assert r.status_code == 200
    assert seen == ["SELECT"]


async def test_a_list_reads_the_caller_then_a_count_and_a_page(
    app: FastAPI, client: httpx.AsyncClient, user_headers: dict[str, str], an_item: Callable[[], Any]
) -> None:
    await an_item()
    with statements(app) as seen:
        r = await client.get("/api/v1/items", headers=user_headers)

    assert r.status_code == 200
    assert seen == ["SELECT", "SELECT", "SELECT"]


async def test_a_signed_out_caller_is_refused_by_the_same_one_statement(
    app: FastAPI, client: httpx.AsyncClient, user_headers: dict[str, str], an_item: Callable[[], Any]
) -> None:
    item_id = await an_item()
    assert (await client.post("/api/v1/auth/logout-all", headers=user_headers)).status_code == 204
    with statements(app) as seen:
        r = await client.get(f"/api/v1/items/{item_id}", headers=user_headers)

    assert r.status_code == 401
    assert seen == ["SELECT"]
