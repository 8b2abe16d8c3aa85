"""Requests that may send mail do the same work whether or not an account is behind the address:
the same statements, in the same order, so neither the answer nor its timing tells who is
registered. Whether mail goes out is decided by a job, after the answer (the lifecycle tests
check what it sends)."""

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from modules.users.models import User

VERIFY_REQUEST = "/api/v1/auth/verify/request"
RESET_REQUEST = "/api/v1/auth/password-reset/request"
ME = "/api/v1/users/me"


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every statement the app's engine runs in the block, its parameters left out."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(re.sub(r"\s+", " ", statement))

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
async def bare_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that leaves queued jobs queued: only the request's own statements run."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize("path", [VERIFY_REQUEST, RESET_REQUEST])
async def test_a_link_request_runs_the_same_statements_for_an_account_and_for_nobody(
    app: FastAPI, bare_client: httpx.AsyncClient, make_user: Callable[..., User], path: str
) -> None:
    make_user("bob@example.com", is_verified=False)
    with statements(app) as known:
        r = await bare_client.post(path, json={"email": "bob@example.com"})
        assert r.status_code == 202
    with statements(app) as unknown:
        r = await bare_client.post(path, json={"email": "nobody@example.com"})
        assert r.status_code == 202

    assert known == unknown
    assert any(statement.startswith("INSERT INTO jobs") for statement in known)


async def test_an_email_change_runs_the_same_statements_for_a_taken_and_a_free_address(
    app: FastAPI,
    bare_client: httpx.AsyncClient,
    make_user: Callable[..., User],
    headers_for: Callable[[User], dict[str, str]],
) -> None:
    make_user("taken@example.com")
    headers = headers_for(make_user("alice@example.com"))
    with statements(app) as taken:
        r = await bare_client.patch(ME, json={"email": "taken@example.com"}, headers=headers)
        assert r.status_code == 200
    with statements(app) as free:
        r = await bare_client.patch(ME, json={"email": "free@example.com"}, headers=headers)
        assert r.status_code == 200

    assert taken == free
    assert any(statement.startswith("INSERT INTO jobs") for statement in taken)
