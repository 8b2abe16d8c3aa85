"""The benchmark compares like with like: both floors (bare ASGI, and plain FastAPI) serve the
service's JSON for the same requests, on the same rows. Only then are their requests/s a fair
yardstick."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from bench import fastapi_floor
from bench.floor import Floor
from bench.seed import PASSWORD, Seeded, seed
from core.config import Settings
from core.security import verify_password
from modules.users.models import User

ITEMS = "/api/v1/items"


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    # Some items belong to someone else: the floor must filter by owner as the service does.
    return seed(engine, users=3, items=30, owner_items=25, rounds=4)


@pytest.fixture
def owner_headers(
    seeded: Seeded, db: Session, headers_for: Callable[[User], dict[str, str]]
) -> dict[str, str]:
    owner = db.get(User, seeded.owner_id)
    assert owner is not None
    return headers_for(owner)


@pytest.fixture(params=["bare", "fastapi"])
async def floor(
    request: pytest.FixtureRequest, settings: Settings, seeded: Seeded, owner_headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """Each floor in turn; the FastAPI one is signed in as the owner, as the service is."""
    if request.param == "bare":
        app: Any = Floor(settings.DATABASE_URL, seeded.owner_id)
        db = app.db
    else:
        app = fastapi_floor.create_app(settings.DATABASE_URL, settings.secret_key)
        db = app.state.db
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://floor", headers=owner_headers
    ) as client:
        yield client
    db.connection.close()


async def test_scenario_1_the_list_page_is_the_same(
    client: httpx.AsyncClient, floor: httpx.AsyncClient, owner_headers: dict[str, str]
) -> None:
    service = await client.get(ITEMS, params={"limit": 20}, headers=owner_headers)
    bare = await floor.get(ITEMS, params={"limit": 20})

    assert service.status_code == bare.status_code == 200
    assert service.json()["total"] == 25
    assert len(service.json()["items"]) == 20
    assert bare.json() == service.json()


async def test_scenario_2_the_item_is_the_same(
    client: httpx.AsyncClient, floor: httpx.AsyncClient, seeded: Seeded, owner_headers: dict[str, str]
) -> None:
    for item_id in seeded.owner_item_ids[:3]:
        service = await client.get(f"{ITEMS}/{item_id}", headers=owner_headers)
        bare = await floor.get(f"{ITEMS}/{item_id}")

        assert service.status_code == bare.status_code == 200
        assert bare.json() == service.json()


async def test_scenario_3_the_created_item_has_the_same_shape(
    client: httpx.AsyncClient, floor: httpx.AsyncClient, owner_headers: dict[str, str]
) -> None:
    body = {"title": "A new item", "description": "Made by the benchmark"}
    service = await client.post(ITEMS, json=body, headers=owner_headers)
    bare = await floor.post(ITEMS, json=body)

    assert service.status_code == bare.status_code == 201
    different = {"id", "created_at", "updated_at"}
    assert bare.json().keys() == service.json().keys()
    assert {k: v for k, v in bare.json().items() if k not in different} == {
        k: v for k, v in service.json().items() if k not in different
    }
    # Both were written where the service reads: the floor's item is listed by the service.
    listed = await client.get(f"{ITEMS}/{bare.json()['id']}", headers=owner_headers)
    assert listed.json() == bare.json()


def test_the_seeded_owner_can_sign_in_with_the_bench_password(app: FastAPI, seeded: Seeded) -> None:
    with Session(app.state.engine) as session:
        owner = session.get(User, seeded.owner_id)
        assert owner is not None
        assert verify_password(PASSWORD, owner.hashed_password, rounds=4)


async def test_the_fastapi_floor_refuses_a_missing_token(settings: Settings, seeded: Seeded) -> None:
    app = fastapi_floor.create_app(settings.DATABASE_URL, settings.secret_key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://floor") as client:
        response = await client.get(f"{ITEMS}/{seeded.owner_item_ids[0]}")
    app.state.db.connection.close()

    assert response.status_code == 401
