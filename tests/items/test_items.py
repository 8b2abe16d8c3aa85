"""Items over HTTP: the contract `make entity` rendered from the field list."""

import json
import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import select

from core.events.testing import published_events
from core.schemas import MAX_OFFSET
from modules.items.events import ItemCreated, ItemDeleted, ItemUpdated
from modules.items.models import Item
from tests.admin.helpers import SAME_ORIGIN, assert_strict_page, form_token, sign_in_to_admin
from tests.helpers import delete_row, query_plan

URL = "/api/v1/items"
# Two valid bodies; FIRST sorts before SECOND on every field.
FIRST = {
    "title": "alpha",
    "description": "alpha",
    "is_completed": True,
}
SECOND = {
    "title": "bravo",
    "description": "bravo",
    "is_completed": False,
}
REQUIRED = ["title"]
# What a create that leaves a field out reads back.
DEFAULTS = {
    "description": None,
    "is_completed": False,
}
INVALID = [
    ("title", None),
    ("title", 123),
    ("title", "a\x00b"),
    ("title", "a\ud800b"),
    ("title", "x" * 201),
    ("title", ""),
    ("description", 123),
    ("description", "a\x00b"),
    ("description", "a\ud800b"),
    ("description", "x" * 5001),
    ("is_completed", None),
    ("is_completed", "maybe"),
    ("is_completed", 0),
]
SORTS = ["created_at", "title"]
FILTERS = ["is_completed"]


def assert_fields(body: dict[str, object], values: dict[str, object]) -> None:
    assert {field: body[field] for field in values} == values


@pytest.fixture
def headers(user_headers: dict[str, str]) -> dict[str, str]:
    """A caller allowed to write: the owner."""
    return user_headers


async def send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], values: dict[str, object]
) -> httpx.Response:
    """A JSON body as any client may write it: `json.dumps` escapes a lone surrogate (`\\ud800`),
    which httpx's own encoder cannot carry."""
    json_headers = {**headers, "Content-Type": "application/json"}
    return await client.request(method, url, content=json.dumps(values), headers=json_headers)


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], values: dict[str, object]
) -> dict[str, object]:
    r = await client.post(URL, json=values, headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


async def test_create_then_read(client, headers):
    created = await create(client, headers, FIRST)
    assert_fields(created, FIRST)
    assert set(created) == {*FIRST, "id", "created_at", "updated_at", "owner_id"}
    r = await client.get(f"{URL}/{created['id']}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == created


async def test_create_stores_the_row(client, headers, db):
    created = await create(client, headers, FIRST)
    row = db.get(Item, uuid.UUID(str(created["id"])))
    assert row is not None
    assert_fields(row.model_dump(mode="json"), FIRST)


async def test_create_with_only_required_fields_applies_defaults(client, headers):
    created = await create(client, headers, {field: FIRST[field] for field in REQUIRED})
    assert_fields(created, DEFAULTS)


@pytest.mark.parametrize("field", REQUIRED)
async def test_create_without_a_required_field_is_refused(client, headers, field):
    values = {k: v for k, v in FIRST.items() if k != field}
    r = await client.post(URL, json=values, headers=headers)
    assert r.status_code == 422, r.text


async def test_create_accepts_the_longest_text(client, headers):
    longest = {
        "title": "x" * 200,
        "description": "x" * 5000,
    }
    created = await create(client, headers, {**FIRST, **longest})
    assert_fields(created, longest)


@pytest.mark.parametrize(("field", "value"), INVALID)
async def test_create_with_an_invalid_value_is_refused(client, headers, db, field, value):
    r = await send(client, "POST", URL, headers, {**FIRST, field: value})
    assert r.status_code == 422, r.text
    assert db.exec(select(Item)).all() == []


@pytest.mark.parametrize("field", ["id", "created_at", "owner_id", "unknown"])
async def test_create_refuses_fields_the_client_does_not_set(client, headers, field):
    r = await client.post(URL, json={**FIRST, field: "00000000-0000-4000-8000-000000000000"}, headers=headers)
    assert r.status_code == 422, r.text


async def test_timestamps_are_timezone_aware(client, headers):
    created = await create(client, headers, FIRST)
    listed = (await client.get(URL, headers=headers)).json()["items"][0]
    for body in (created, listed):
        for stamp in ("created_at", "updated_at"):
            assert datetime.fromisoformat(str(body[stamp])).utcoffset() is not None, body


async def test_update_changes_every_field(client, headers):
    created = await create(client, headers, FIRST)
    r = await client.patch(f"{URL}/{created['id']}", json=SECOND, headers=headers)
    assert r.status_code == 200, r.text
    assert_fields(r.json(), SECOND)
    r = await client.get(f"{URL}/{created['id']}", headers=headers)
    assert_fields(r.json(), SECOND)


async def test_update_leaves_unsent_fields_alone(client, headers):
    created = await create(client, headers, FIRST)
    field, value = next(iter(SECOND.items()))
    r = await client.patch(f"{URL}/{created['id']}", json={field: value}, headers=headers)
    assert r.status_code == 200, r.text
    assert_fields(r.json(), {**FIRST, field: value})


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, v in INVALID if v is not None])
async def test_update_with_an_invalid_value_is_refused(client, headers, field, value):
    created = await create(client, headers, FIRST)
    r = await send(client, "PATCH", f"{URL}/{created['id']}", headers, {field: value})
    assert r.status_code == 422, r.text
    assert_fields((await client.get(f"{URL}/{created['id']}", headers=headers)).json(), FIRST)


async def test_delete_then_read_is_404(client, headers):
    created = await create(client, headers, FIRST)
    r = await client.delete(f"{URL}/{created['id']}", headers=headers)
    assert r.status_code == 204, r.text
    r = await client.get(f"{URL}/{created['id']}", headers=headers)
    assert r.status_code == 404, r.text


async def test_each_write_publishes_its_event(client, headers):
    with published_events() as events:
        created = await create(client, headers, FIRST)
        row = f"{URL}/{created['id']}"
        assert (await client.patch(row, json=SECOND, headers=headers)).status_code == 200
        assert (await client.delete(row, headers=headers)).status_code == 204
    for kind in (ItemCreated, ItemUpdated, ItemDeleted):
        published = [str(change.item_id) for change in events.of(kind)]
        assert published == [created["id"]], kind.__name__
    assert {str(change.owner_id) for change in events.events} == {created["owner_id"]}


async def test_unknown_id_is_404(client, headers):
    missing = f"{URL}/00000000-0000-4000-8000-000000000000"
    not_found = {"detail": "Item not found", "code": "not_found"}
    for r in [
        await client.get(missing, headers=headers),
        await client.patch(missing, json=SECOND, headers=headers),
        await client.delete(missing, headers=headers),
    ]:
        assert (r.status_code, r.json()) == (404, not_found)
    assert (await client.get(f"{URL}/not-a-uuid", headers=headers)).status_code == 422


async def test_list_pages_through_everything(client, headers):
    first = await create(client, headers, FIRST)
    second = await create(client, headers, SECOND)
    r = await client.get(URL, params={"limit": 1, "sort": "created_at"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [first], "total": 2, "limit": 1, "offset": 0}
    r = await client.get(URL, params={"limit": 1, "offset": 1, "sort": "created_at"}, headers=headers)
    assert [row["id"] for row in r.json()["items"]] == [second["id"]]


BAD_PAGES = [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": MAX_OFFSET + 1}, {"offset": 2**63}]


@pytest.mark.parametrize("params", [*BAD_PAGES, {"sort": "nope"}])
async def test_list_refuses_bad_paging_and_sorting(client, headers, params):
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("field", SORTS)
async def test_list_sorts_by(client, headers, field):
    first = await create(client, headers, FIRST)
    second = await create(client, headers, SECOND)
    r = await client.get(URL, params={"sort": field}, headers=headers)
    assert [row["id"] for row in r.json()["items"]] == [first["id"], second["id"]], r.text
    r = await client.get(URL, params={"sort": f"-{field}"}, headers=headers)
    assert [row["id"] for row in r.json()["items"]] == [second["id"], first["id"]], r.text


@pytest.mark.parametrize("field", FILTERS)
async def test_list_filters_by(client, headers, field):
    first = await create(client, headers, FIRST)
    await create(client, headers, SECOND)
    r = await client.get(URL, params={field: FIRST[field]}, headers=headers)
    assert r.status_code == 200, r.text
    assert [row["id"] for row in r.json()["items"]] == [first["id"]]


async def test_list_searches_the_title_ignoring_case(client, headers):
    first = await create(client, headers, FIRST)
    await create(client, headers, SECOND)
    r = await client.get(URL, params={"q": str(FIRST["title"])[:3].upper()}, headers=headers)
    assert r.status_code == 200, r.text
    assert [row["id"] for row in r.json()["items"]] == [first["id"]]


async def test_list_search_treats_wildcards_as_text(client, headers):
    await create(client, headers, FIRST)
    r = await client.get(URL, params={"q": "%"}, headers=headers)
    assert r.json()["total"] == 0, r.text


async def test_anonymous_callers_are_refused(client):
    assert (await client.get(URL)).status_code == 401
    r = await client.post(URL, json=FIRST, headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_operations_are_named_tagged_and_need_a_token(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = {op["operationId"]: op for methods in paths.values() for op in methods.values()}
    for name in ("list", "create", "read", "update", "delete"):
        operation = operations[f"items-{name}"]
        assert operation["tags"] == ["items"]
        assert operation["security"] == [{"OAuth2PasswordBearer": []}]
        documented = {"401", "422", "429", "503"}
        documented |= {"404"} if name in {"read", "update", "delete"} else set()
        documented |= {"400", "409", "413"} if name in {"create", "update"} else set()
        assert set(operation["responses"]) - {"200", "201", "204"} == documented, name


async def test_items_belong_to_their_owner(client, headers, db, make_user, headers_for):
    mine = await create(client, headers, FIRST)
    bob = make_user()
    theirs = await create(client, headers_for(bob), {**SECOND})
    r = await client.get(URL, headers=headers)
    assert [row["id"] for row in r.json()["items"]] == [mine["id"]]
    assert mine["owner_id"] != theirs["owner_id"] == str(bob.id)
    for request in (client.get, client.delete):
        assert (await request(f"{URL}/{theirs['id']}", headers=headers)).status_code == 404
    r = await client.patch(f"{URL}/{theirs['id']}", json=FIRST, headers=headers)
    assert r.status_code == 404, r.text


async def test_a_superuser_sees_everyones_items(client, headers, superuser_headers):
    mine = await create(client, headers, FIRST)
    r = await client.get(URL, headers=superuser_headers)
    assert [row["id"] for row in r.json()["items"]] == [mine["id"]]
    r = await client.get(f"{URL}/{mine['id']}", headers=superuser_headers)
    assert r.status_code == 200, r.text


async def test_deleting_an_account_deletes_its_items_only(client, headers, db, user, make_user, headers_for):
    bob = make_user()
    theirs = await create(client, headers_for(bob), {**SECOND})
    await create(client, headers, FIRST)
    delete_row(db, "users", user.id)  # as the users module does, whose routes this module does not need
    db.expire_all()
    assert [str(row.id) for row in db.exec(select(Item)).all()] == [theirs["id"]]


async def test_the_list_reads_the_owner_index(app, client, headers):
    """One owner's newest rows come straight from (owner_id, created_at), on every backend."""
    statements = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(app.state.engine, "before_cursor_execute", remember)
    try:
        r = await client.get(URL, headers=headers)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", remember)
    assert r.status_code == 200, r.text
    (page,) = [(s, p) for s, p in statements if "ORDER BY" in s]
    assert "ix_items_owner_id_created_at" in query_plan(app.state.engine, *page)


ADMIN = "/admin/item"
# FIRST as /admin's form sends it: a flag as a checked box (or not there), a time as the picker writes it.
FORM = {
    "title": "alpha",
    "description": "alpha",
    "is_completed": "y",
}


async def admin_edit(client: httpx.AsyncClient, row_id: object, values: dict[str, str]) -> httpx.Response:
    page = await client.get(f"{ADMIN}/edit/{row_id}")
    assert_strict_page(page)
    form = {**values, "csrf_token": form_token(page.text), "save": "Save"}
    return await client.post(f"{ADMIN}/edit/{row_id}", data=form, headers=SAME_ORIGIN)


async def test_the_admin_lists_and_edits_items_and_refuses_what_the_api_refuses(client, headers, superuser):
    created = await create(client, headers, FIRST)
    await sign_in_to_admin(client, superuser)
    r = await client.get(f"{ADMIN}/list")
    assert_strict_page(r)
    assert created["id"] in r.text
    r = await admin_edit(client, created["id"], {**FORM, "title": "a\x00b"})
    assert r.status_code == 400, r.text
    assert (await client.get(f"{URL}/{created['id']}", headers=headers)).json() == created
    r = await admin_edit(client, created["id"], FORM)
    assert r.status_code == 302, r.text


async def test_the_admin_creates_then_deletes_items(client, superuser, superuser_headers):
    token = await sign_in_to_admin(client, superuser)
    assert_strict_page(await client.get(f"{ADMIN}/create"))
    form = {**FORM, "csrf_token": token, "save": "Save"}
    r = await client.post(f"{ADMIN}/create", data=form, headers=SAME_ORIGIN)
    assert r.status_code == 302, r.text
    (row,) = (await client.get(URL, headers=superuser_headers)).json()["items"]
    assert row["owner_id"] == str(superuser.id)
    deletion = {**SAME_ORIGIN, "X-CSRF-Token": token}  # the form token as sqladmin's script sends it
    r = await client.delete(f"{ADMIN}/delete?pks={row['id']}", headers=deletion)
    assert r.status_code == 200, r.text
    assert (await client.get(f"{URL}/{row['id']}", headers=superuser_headers)).status_code == 404
