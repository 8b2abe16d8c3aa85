"""The example entity over HTTP: validation, owner scoping, listing, partial updates."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from modules.items.models import Item
from modules.items.schemas import ItemPage
from modules.users.models import User

URL = "/api/v1/items"
Headers = dict[str, str]


async def create(client: httpx.AsyncClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    response = await client.post(URL, json={"title": "an item", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def other_headers(make_user: Callable[..., User], headers_for: Callable[[User], Headers]) -> Headers:
    return headers_for(make_user("bob@example.com"))


# --- create ---


async def test_create_returns_the_item_owned_by_the_caller(
    client: httpx.AsyncClient, user: User, user_headers: Headers
) -> None:
    response = await client.post(
        URL, json={"title": "Buy milk", "description": "2 litres"}, headers=user_headers
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "title", "description", "is_completed", "owner_id", "created_at", "updated_at"}
    assert body["title"] == "Buy milk"
    assert body["description"] == "2 litres"
    assert body["is_completed"] is False
    assert body["owner_id"] == str(user.id)
    uuid.UUID(body["id"])


async def test_create_stores_the_item(client: httpx.AsyncClient, user_headers: Headers, db: Session) -> None:
    body = await create(client, user_headers, title="stored", is_completed=True)

    item = db.get(Item, uuid.UUID(body["id"]))
    assert item is not None
    assert (item.title, item.description, item.is_completed) == ("stored", None, True)


async def test_create_accepts_the_longest_title_and_description(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    response = await client.post(
        URL, json={"title": "t" * 200, "description": "d" * 5000}, headers=user_headers
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"title": ""}, id="empty-title"),
        pytest.param({"title": "t" * 201}, id="title-201-chars"),
        pytest.param({"title": "ok", "description": "d" * 5001}, id="description-5001-chars"),
        pytest.param({}, id="no-title"),
        pytest.param({"title": "ok", "owner_id": str(uuid.uuid4())}, id="unknown-field-owner_id"),
        pytest.param({"title": "ok", "id": str(uuid.uuid4())}, id="unknown-field-id"),
        pytest.param({"title": "a\x00b"}, id="nul-in-title"),
        pytest.param({"title": "ok", "description": "\x00"}, id="nul-in-description"),
    ],
)
async def test_create_refuses_an_invalid_body(
    client: httpx.AsyncClient, user_headers: Headers, body: dict[str, Any], db: Session
) -> None:
    response = await client.post(URL, json=body, headers=user_headers)

    assert response.status_code == 422, response.text
    assert db.exec(select(Item)).all() == []


async def test_create_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"title": "anonymous"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_create_with_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"title": "x"}, headers={"Authorization": "Bearer not-a-jwt"})

    assert response.status_code == 401


# --- timestamps ---


def aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no offset"
    return parsed


async def test_timestamps_are_timezone_aware_on_create_read_and_list(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    created = await create(client, user_headers)
    read = (await client.get(f"{URL}/{created['id']}", headers=user_headers)).json()
    listed = (await client.get(URL, headers=user_headers)).json()["items"][0]

    for body in (created, read, listed):
        assert aware(body["created_at"]).utcoffset() is not None
        assert aware(body["updated_at"]).utcoffset() is not None
    # What was stored comes back as the same instant.
    assert aware(read["created_at"]) == aware(created["created_at"])


def test_timestamps_read_from_the_database_are_timezone_aware(db: Session, user: User) -> None:
    db.add(Item(title="direct", owner_id=user.id))
    db.commit()
    db.expunge_all()

    item = db.exec(select(Item)).one()

    assert item.created_at.tzinfo is not None
    assert item.updated_at.tzinfo is not None


# --- list ---


async def test_list_returns_a_page_with_defaults(client: httpx.AsyncClient, user_headers: Headers) -> None:
    await create(client, user_headers)

    response = await client.get(URL, headers=user_headers)

    assert response.status_code == 200
    body = response.json()
    # The page envelope (items, total, limit, offset), whatever the entity is called.
    assert set(body) == set(ItemPage.model_fields)
    assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)
    assert len(body["items"]) == 1


async def test_list_is_empty_for_a_new_user(client: httpx.AsyncClient, user_headers: Headers) -> None:
    response = await client.get(URL, headers=user_headers)

    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_list_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)

    assert response.status_code == 401


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}])
async def test_list_refuses_out_of_range_paging(
    client: httpx.AsyncClient, user_headers: Headers, params: dict[str, Any]
) -> None:
    response = await client.get(URL, params=params, headers=user_headers)

    assert response.status_code == 422, response.text


@pytest.mark.parametrize("limit", [1, 100])
async def test_list_accepts_the_limit_bounds(
    client: httpx.AsyncClient, user_headers: Headers, limit: int
) -> None:
    response = await client.get(URL, params={"limit": limit}, headers=user_headers)

    assert response.status_code == 200
    assert response.json()["limit"] == limit


async def test_list_pages_with_limit_and_offset_and_counts_every_match(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    for title in ("a", "b", "c", "d", "e"):
        await create(client, user_headers, title=title)

    response = await client.get(URL, params={"limit": 2, "offset": 1, "sort": "title"}, headers=user_headers)

    body = response.json()
    assert [item["title"] for item in body["items"]] == ["b", "c"]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)


async def test_list_offset_past_the_end_is_an_empty_page_with_the_total(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    await create(client, user_headers)

    body = (await client.get(URL, params={"offset": 10}, headers=user_headers)).json()

    assert (body["items"], body["total"]) == ([], 1)


async def test_list_filters_by_title_case_insensitively(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    for title in ("Buy MILK", "milkshake", "bread"):
        await create(client, user_headers, title=title)

    body = (await client.get(URL, params={"q": "Milk", "sort": "title"}, headers=user_headers)).json()

    assert [item["title"] for item in body["items"]] == ["Buy MILK", "milkshake"]
    assert body["total"] == 2


async def test_list_q_does_not_search_the_description(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    await create(client, user_headers, title="plain", description="needle")

    body = (await client.get(URL, params={"q": "needle"}, headers=user_headers)).json()

    assert body["total"] == 0


@pytest.mark.parametrize(("q", "found"), [("%", "100% done"), ("_", "50_50"), ("0%", "100% done")])
async def test_list_q_treats_like_wildcards_literally(
    client: httpx.AsyncClient, user_headers: Headers, q: str, found: str
) -> None:
    for title in ("100% done", "50_50", "plain title", "5050"):
        await create(client, user_headers, title=title)

    body = (await client.get(URL, params={"q": q}, headers=user_headers)).json()

    assert [item["title"] for item in body["items"]] == [found]
    assert body["total"] == 1


async def test_list_q_treats_the_escape_character_literally(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    for title in ("a/b", "ab", "a/%b"):
        await create(client, user_headers, title=title)

    body = (await client.get(URL, params={"q": "/"}, headers=user_headers)).json()

    assert {item["title"] for item in body["items"]} == {"a/%b", "a/b"}


async def test_list_refuses_a_q_with_a_nul(client: httpx.AsyncClient, user_headers: Headers) -> None:
    # PostgreSQL cannot compare text with a NUL; a 422 rather than a 500.
    response = await client.get(URL, params={"q": "a\x00"}, headers=user_headers)

    assert response.status_code == 422


async def test_list_refuses_an_overlong_q(client: httpx.AsyncClient, user_headers: Headers) -> None:
    response = await client.get(URL, params={"q": "x" * 201}, headers=user_headers)

    assert response.status_code == 422


@pytest.mark.parametrize("completed", [True, False])
async def test_list_filters_by_completion(
    client: httpx.AsyncClient, user_headers: Headers, completed: bool
) -> None:
    await create(client, user_headers, title="done", is_completed=True)
    await create(client, user_headers, title="open", is_completed=False)
    await create(client, user_headers, title="open too", is_completed=False)

    body = (
        await client.get(URL, params={"is_completed": str(completed).lower()}, headers=user_headers)
    ).json()

    assert {item["is_completed"] for item in body["items"]} == {completed}
    assert body["total"] == (1 if completed else 2)


async def test_list_combines_q_and_completion(client: httpx.AsyncClient, user_headers: Headers) -> None:
    await create(client, user_headers, title="milk", is_completed=True)
    await create(client, user_headers, title="milk", is_completed=False)
    await create(client, user_headers, title="bread", is_completed=True)

    body = (await client.get(URL, params={"q": "milk", "is_completed": "true"}, headers=user_headers)).json()

    assert [(item["title"], item["is_completed"]) for item in body["items"]] == [("milk", True)]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", ["banana", "cherry", "apple"]),
        ("-created_at", ["apple", "cherry", "banana"]),
        ("title", ["apple", "banana", "cherry"]),
        ("-title", ["cherry", "banana", "apple"]),
    ],
)
async def test_list_sorts(
    client: httpx.AsyncClient, user_headers: Headers, sort: str, expected: list[str]
) -> None:
    for title in ("banana", "cherry", "apple"):
        await create(client, user_headers, title=title)

    body = (await client.get(URL, params={"sort": sort}, headers=user_headers)).json()

    assert [item["title"] for item in body["items"]] == expected


async def test_list_default_sort_is_newest_first(client: httpx.AsyncClient, user_headers: Headers) -> None:
    for title in ("first", "second", "third"):
        await create(client, user_headers, title=title)

    body = (await client.get(URL, headers=user_headers)).json()

    assert [item["title"] for item in body["items"]] == ["third", "second", "first"]


@pytest.mark.parametrize("sort", ["owner_id", "id", "-description", "title;drop table items"])
async def test_list_refuses_an_unknown_sort(
    client: httpx.AsyncClient, user_headers: Headers, sort: str
) -> None:
    response = await client.get(URL, params={"sort": sort}, headers=user_headers)

    assert response.status_code == 422


async def test_list_refuses_an_unknown_query_parameter(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    response = await client.get(URL, params={"owner_id": str(uuid.uuid4())}, headers=user_headers)

    assert response.status_code == 422


async def test_list_shows_only_the_callers_items(
    client: httpx.AsyncClient, user_headers: Headers, other_headers: Headers
) -> None:
    mine = await create(client, user_headers, title="mine")
    await create(client, other_headers, title="theirs")

    body = (await client.get(URL, headers=user_headers)).json()

    assert [item["id"] for item in body["items"]] == [mine["id"]]
    assert body["total"] == 1


async def test_list_total_counts_only_the_callers_matches(
    client: httpx.AsyncClient, user_headers: Headers, other_headers: Headers
) -> None:
    await create(client, user_headers, title="milk")
    await create(client, other_headers, title="milk")
    await create(client, other_headers, title="milk")

    body = (await client.get(URL, params={"q": "milk"}, headers=user_headers)).json()

    assert body["total"] == 1


async def test_list_shows_a_superuser_everyones_items(
    client: httpx.AsyncClient, user_headers: Headers, other_headers: Headers, superuser_headers: Headers
) -> None:
    await create(client, user_headers, title="alice's")
    await create(client, other_headers, title="bob's")

    body = (await client.get(URL, params={"sort": "title"}, headers=superuser_headers)).json()

    assert [item["title"] for item in body["items"]] == ["alice's", "bob's"]
    assert body["total"] == 2


# --- read ---


async def test_read_returns_the_item(client: httpx.AsyncClient, user_headers: Headers) -> None:
    created = await create(client, user_headers, title="read me", description="text")

    response = await client.get(f"{URL}/{created['id']}", headers=user_headers)

    assert response.status_code == 200
    assert response.json() == created


async def test_read_unknown_id_is_404(client: httpx.AsyncClient, user_headers: Headers) -> None:
    response = await client.get(f"{URL}/{uuid.uuid4()}", headers=user_headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_non_uuid_id_is_422(client: httpx.AsyncClient, user_headers: Headers, method: str) -> None:
    response = await client.request(method, f"{URL}/not-a-uuid", json={}, headers=user_headers)

    assert response.status_code == 422


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_item_routes_without_a_token_are_401(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, f"{URL}/{uuid.uuid4()}", json={})

    assert response.status_code == 401


# --- another user's item: 404 for everything, and it stays as it was ---


async def test_read_of_another_users_item_is_404(
    client: httpx.AsyncClient, user_headers: Headers, other_headers: Headers
) -> None:
    theirs = await create(client, other_headers)

    response = await client.get(f"{URL}/{theirs['id']}", headers=user_headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


async def test_update_of_another_users_item_is_404_and_changes_nothing(
    client: httpx.AsyncClient, user_headers: Headers, other_headers: Headers
) -> None:
    theirs = await create(client, other_headers, title="original")

    response = await client.patch(f"{URL}/{theirs['id']}", json={"title": "hijacked"}, headers=user_headers)

    assert response.status_code == 404
    assert (await client.get(f"{URL}/{theirs['id']}", headers=other_headers)).json() == theirs


async def test_delete_of_another_users_item_is_404_and_keeps_it(
    client: httpx.AsyncClient, user_headers: Headers, other_headers: Headers
) -> None:
    theirs = await create(client, other_headers)

    response = await client.delete(f"{URL}/{theirs['id']}", headers=user_headers)

    assert response.status_code == 404
    assert (await client.get(f"{URL}/{theirs['id']}", headers=other_headers)).status_code == 200


async def test_superuser_reads_anyones_item(
    client: httpx.AsyncClient, user_headers: Headers, superuser_headers: Headers
) -> None:
    theirs = await create(client, user_headers)

    response = await client.get(f"{URL}/{theirs['id']}", headers=superuser_headers)

    assert response.status_code == 200
    assert response.json() == theirs


async def test_superuser_updates_anyones_item_and_keeps_its_owner(
    client: httpx.AsyncClient, user: User, user_headers: Headers, superuser_headers: Headers
) -> None:
    theirs = await create(client, user_headers)

    response = await client.patch(
        f"{URL}/{theirs['id']}", json={"title": "moderated"}, headers=superuser_headers
    )

    assert response.status_code == 200
    assert response.json()["title"] == "moderated"
    assert response.json()["owner_id"] == str(user.id)


async def test_superuser_deletes_anyones_item(
    client: httpx.AsyncClient, user_headers: Headers, superuser_headers: Headers
) -> None:
    theirs = await create(client, user_headers)

    response = await client.delete(f"{URL}/{theirs['id']}", headers=superuser_headers)

    assert response.status_code == 204
    assert (await client.get(f"{URL}/{theirs['id']}", headers=user_headers)).status_code == 404


# --- update ---


async def test_update_changes_only_the_given_fields(client: httpx.AsyncClient, user_headers: Headers) -> None:
    created = await create(client, user_headers, title="old", description="keep me")

    response = await client.patch(f"{URL}/{created['id']}", json={"is_completed": True}, headers=user_headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["description"], body["is_completed"]) == ("old", "keep me", True)
    assert (body["id"], body["owner_id"], body["created_at"]) == (
        created["id"],
        created["owner_id"],
        created["created_at"],
    )


async def test_update_is_stored(client: httpx.AsyncClient, user_headers: Headers) -> None:
    created = await create(client, user_headers, title="old")

    await client.patch(f"{URL}/{created['id']}", json={"title": "new"}, headers=user_headers)

    assert (await client.get(f"{URL}/{created['id']}", headers=user_headers)).json()["title"] == "new"


async def test_update_with_null_description_clears_it(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    created = await create(client, user_headers, description="to be removed")

    response = await client.patch(f"{URL}/{created['id']}", json={"description": None}, headers=user_headers)

    assert response.json()["description"] is None
    assert (await client.get(f"{URL}/{created['id']}", headers=user_headers)).json()["description"] is None


async def test_update_with_null_title_or_completion_leaves_them(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    created = await create(client, user_headers, title="kept", is_completed=True)

    response = await client.patch(
        f"{URL}/{created['id']}", json={"title": None, "is_completed": None}, headers=user_headers
    )

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["is_completed"]) == ("kept", True)


async def test_update_advances_updated_at(client: httpx.AsyncClient, user_headers: Headers) -> None:
    created = await create(client, user_headers)

    response = await client.patch(f"{URL}/{created['id']}", json={"title": "changed"}, headers=user_headers)

    body = response.json()
    assert aware(body["updated_at"]) > aware(created["updated_at"])
    assert body["created_at"] == created["created_at"]
    stored = (await client.get(f"{URL}/{created['id']}", headers=user_headers)).json()
    assert stored["updated_at"] == body["updated_at"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"title": ""}, id="empty-title"),
        pytest.param({"title": "t" * 201}, id="title-201-chars"),
        pytest.param({"description": "d" * 5001}, id="description-5001-chars"),
        pytest.param({"owner_id": str(uuid.uuid4())}, id="unknown-field-owner_id"),
        pytest.param({"created_at": "2000-01-01T00:00:00Z"}, id="unknown-field-created_at"),
        pytest.param({"description": "a\x00b"}, id="nul-in-description"),
    ],
)
async def test_update_refuses_an_invalid_body_and_changes_nothing(
    client: httpx.AsyncClient, user_headers: Headers, body: dict[str, Any]
) -> None:
    created = await create(client, user_headers)

    response = await client.patch(f"{URL}/{created['id']}", json=body, headers=user_headers)

    assert response.status_code == 422, response.text
    assert (await client.get(f"{URL}/{created['id']}", headers=user_headers)).json() == created


async def test_update_unknown_id_is_404(client: httpx.AsyncClient, user_headers: Headers) -> None:
    response = await client.patch(f"{URL}/{uuid.uuid4()}", json={"title": "x"}, headers=user_headers)

    assert response.status_code == 404


# --- delete ---


async def test_delete_removes_the_item(client: httpx.AsyncClient, user_headers: Headers) -> None:
    created = await create(client, user_headers)

    response = await client.delete(f"{URL}/{created['id']}", headers=user_headers)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{URL}/{created['id']}", headers=user_headers)).status_code == 404


async def test_delete_unknown_id_is_404(client: httpx.AsyncClient, user_headers: Headers) -> None:
    response = await client.delete(f"{URL}/{uuid.uuid4()}", headers=user_headers)

    assert response.status_code == 404


async def test_delete_twice_is_404_the_second_time(client: httpx.AsyncClient, user_headers: Headers) -> None:
    created = await create(client, user_headers)
    await client.delete(f"{URL}/{created['id']}", headers=user_headers)

    response = await client.delete(f"{URL}/{created['id']}", headers=user_headers)

    assert response.status_code == 404


def test_deleting_the_owner_deletes_their_items(db: Session, user: User) -> None:
    db.add(Item(title="orphan?", owner_id=user.id))
    db.commit()

    db.delete(user)
    db.commit()

    assert db.exec(select(Item)).all() == []
