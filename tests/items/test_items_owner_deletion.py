"""Deleting an account deletes its items (ON DELETE CASCADE), and only its own."""

from collections.abc import Callable

import httpx
from sqlmodel import Session, select

from modules.items.models import Item
from modules.users.models import User

URL = "/api/v1/items"
ME = "/api/v1/users/me"
Headers = dict[str, str]


async def test_delete_me_removes_my_items(
    client: httpx.AsyncClient, db: Session, user: User, user_headers: Headers
) -> None:
    for title in ("one", "two"):
        r = await client.post(URL, json={"title": title}, headers=user_headers)
        assert r.status_code == 201, r.text
    await client.delete(ME, headers=user_headers)
    db.expire_all()
    assert db.exec(select(Item)).all() == []


async def test_delete_me_leaves_other_users_items(
    client: httpx.AsyncClient,
    db: Session,
    make_user: Callable[..., User],
    headers_for: Callable[[User], Headers],
    user: User,
    user_headers: Headers,
) -> None:
    bob = make_user("bob@example.com")
    r = await client.post(URL, json={"title": "bob's"}, headers=headers_for(bob))
    assert r.status_code == 201, r.text
    await client.post(URL, json={"title": "alice's"}, headers=user_headers)
    await client.delete(ME, headers=user_headers)
    db.expire_all()
    rows = db.exec(select(Item)).all()
    assert [(row.title, row.owner_id) for row in rows] == [("bob's", bob.id)]
