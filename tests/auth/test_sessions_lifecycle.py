"""Sessions: seeing one's logins, ending one or all of them, and pruning the dead ones."""

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from core.config import Settings
from core.db import utcnow
from core.security import TokenType, create_token
from modules.auth.dependencies import NO_SESSION
from modules.auth.models import AuthSession
from modules.users.models import User
from tests.helpers import PASSWORD, ROOT, TEST_SECRET_KEY

SESSIONS = "/api/v1/auth/sessions"


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob@example.com")


async def _login(client: httpx.AsyncClient, agent: str = "pytest-agent") -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/login",
        data={"username": "bob@example.com", "password": PASSWORD},
        headers={"User-Agent": agent},
    )
    assert r.status_code == 200, r.text
    tokens: dict[str, str] = r.json()
    return tokens


def _auth(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _refresh(client: httpx.AsyncClient, tokens: dict[str, str]) -> int:
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    return r.status_code


def _session_row(db: Session, user: User, **fields: object) -> AuthSession:
    values: dict[str, object] = {
        "user_id": user.id,
        "refresh_token_hash": "0" * 64,
        "expires_at": utcnow() + timedelta(days=1),
        **fields,
    }
    auth_session = AuthSession(**values)  # type: ignore[arg-type]
    db.add(auth_session)
    db.commit()
    return auth_session


@pytest.mark.usefixtures("bob")
async def test_the_list_shows_each_login_with_its_details_and_marks_the_current_one(
    client: httpx.AsyncClient,
) -> None:
    await _login(client, agent="Firefox on a laptop")
    phone = await _login(client, agent="Safari on a phone")
    r = await client.get(SESSIONS, headers=_auth(phone))
    assert r.status_code == 200, r.text
    sessions = r.json()
    assert [(s["user_agent"], s["current"]) for s in sessions] == [
        ("Safari on a phone", True),
        ("Firefox on a laptop", False),
    ]
    assert {s["ip_address"] for s in sessions} == {"127.0.0.1"}
    assert set(sessions[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "expires_at",
        "user_agent",
        "ip_address",
        "current",
    }


@pytest.mark.usefixtures("bob")
async def test_a_long_user_agent_is_cut_to_fit(client: httpx.AsyncClient) -> None:
    tokens = await _login(client, agent="x" * 2000)
    [session] = (await client.get(SESSIONS, headers=_auth(tokens))).json()
    assert session["user_agent"] == "x" * 512


@pytest.mark.usefixtures("bob")
async def test_a_client_address_longer_than_its_column_is_cut_to_fit(app: FastAPI) -> None:
    # A server behind a proxy takes the address from a header, or gives a socket path: the
    # login must not fail (PostgreSQL refuses a value longer than the column) for its length.
    address = "fd00:" + "a" * 100
    transport = httpx.ASGITransport(app=app, client=(address, 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        tokens = await _login(client)
        [session] = (await client.get(SESSIONS, headers=_auth(tokens))).json()
    assert session["ip_address"] == address[:45]


async def test_the_list_leaves_out_ended_sessions_and_other_peoples(
    client: httpx.AsyncClient,
    bob: User,
    make_user: Callable[..., User],
    db: Session,
    headers_for: Callable[..., dict[str, str]],
) -> None:
    headers_for(make_user("carol@example.com"))
    _session_row(db, bob, revoked_at=utcnow())
    _session_row(db, bob, expires_at=utcnow() - timedelta(seconds=1))
    _session_row(db, bob, created_at=bob.password_changed_at - timedelta(seconds=1))
    tokens = await _login(client)
    [session] = (await client.get(SESSIONS, headers=_auth(tokens))).json()
    assert session["current"] is True


async def test_listing_needs_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.get(SESSIONS)).status_code == 401


async def test_an_access_token_without_a_session_is_refused(
    client: httpx.AsyncClient, bob: User, settings: Settings
) -> None:
    token, _ = create_token(
        subject=str(bob.id),
        token_type=TokenType.ACCESS,
        secret=settings.secret_key,
        lifetime=timedelta(minutes=1),
    )
    r = await client.get(SESSIONS, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


@pytest.mark.usefixtures("bob")
async def test_ending_a_session_stops_its_refresh_token(client: httpx.AsyncClient) -> None:
    laptop, phone = await _login(client), await _login(client)
    [laptop_session] = [s for s in (await client.get(SESSIONS, headers=_auth(laptop))).json() if s["current"]]
    r = await client.delete(f"{SESSIONS}/{laptop_session['id']}", headers=_auth(phone))
    assert r.status_code == 204, r.text
    assert await _refresh(client, laptop) == 401
    assert await _refresh(client, phone) == 200
    remaining = (await client.get(SESSIONS, headers=_auth(phone))).json()
    assert laptop_session["id"] not in {s["id"] for s in remaining}


@pytest.mark.usefixtures("bob")
async def test_ending_an_ended_session_is_404(client: httpx.AsyncClient) -> None:
    laptop, phone = await _login(client), await _login(client)
    [laptop_session] = [s for s in (await client.get(SESSIONS, headers=_auth(laptop))).json() if s["current"]]
    url = f"{SESSIONS}/{laptop_session['id']}"
    assert (await client.delete(url, headers=_auth(phone))).status_code == 204
    r = await client.delete(url, headers=_auth(phone))
    assert r.status_code == 404
    assert r.json() == {"detail": NO_SESSION, "code": "not_found"}


@pytest.mark.usefixtures("bob")
async def test_someone_elses_session_is_404_and_keeps_working(
    client: httpx.AsyncClient, make_user: Callable[..., User]
) -> None:
    bobs = await _login(client)
    [bobs_session] = (await client.get(SESSIONS, headers=_auth(bobs))).json()
    make_user("carol@example.com")
    r = await client.post("/api/v1/auth/login", data={"username": "carol@example.com", "password": PASSWORD})
    carols = r.json()
    r = await client.delete(f"{SESSIONS}/{bobs_session['id']}", headers=_auth(carols))
    assert r.status_code == 404
    assert r.json() == {"detail": NO_SESSION, "code": "not_found"}
    assert await _refresh(client, bobs) == 200


@pytest.mark.usefixtures("bob")
async def test_ending_an_unknown_or_malformed_session_id(client: httpx.AsyncClient) -> None:
    tokens = await _login(client)
    assert (await client.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=_auth(tokens))).status_code == 404
    assert (await client.delete(f"{SESSIONS}/not-a-uuid", headers=_auth(tokens))).status_code == 422
    assert (await client.delete(f"{SESSIONS}/{uuid.uuid4()}")).status_code == 401


@pytest.mark.usefixtures("bob")
async def test_logout_all_ends_every_session(client: httpx.AsyncClient) -> None:
    everywhere = [await _login(client) for _ in range(3)]
    r = await client.post("/api/v1/auth/logout-all", headers=_auth(everywhere[0]))
    assert r.status_code == 204, r.text
    assert [await _refresh(client, tokens) for tokens in everywhere] == [401, 401, 401]
    r = await client.post("/api/v1/auth/login", data={"username": "bob@example.com", "password": PASSWORD})
    assert [s["current"] for s in (await client.get(SESSIONS, headers=_auth(r.json()))).json()] == [True]


async def test_logout_all_leaves_other_users_alone(
    client: httpx.AsyncClient, bob: User, make_user: Callable[..., User]
) -> None:
    bobs = await _login(client)
    make_user("carol@example.com")
    r = await client.post("/api/v1/auth/login", data={"username": "carol@example.com", "password": PASSWORD})
    carols = r.json()
    assert (await client.post("/api/v1/auth/logout-all", headers=_auth(carols))).status_code == 204
    assert await _refresh(client, bobs) == 200
    assert (await client.post("/api/v1/auth/logout-all")).status_code == 401


async def test_a_login_prunes_the_users_session_rows(
    client: httpx.AsyncClient, bob: User, make_user: Callable[..., User], db: Session
) -> None:
    carol = make_user("carol@example.com")
    dead = [
        _session_row(db, bob, revoked_at=utcnow()),
        _session_row(db, bob, expires_at=utcnow() - timedelta(seconds=1)),
        _session_row(db, bob, created_at=bob.password_changed_at - timedelta(seconds=1)),
    ]
    live = _session_row(db, bob)
    carols_dead = _session_row(db, carol, revoked_at=utcnow())
    await _login(client)
    left = set(db.exec(select(AuthSession.id)).all())
    assert not left & {s.id for s in dead}
    assert {live.id, carols_dead.id} <= left
    assert len(left) == 3


def test_the_prune_command_deletes_session_rows_of_everyone(
    bob: User, make_user: Callable[..., User], db: Session, database_url: str
) -> None:
    carol = make_user("carol@example.com")
    _session_row(db, bob, revoked_at=utcnow())
    _session_row(db, carol, expires_at=utcnow() - timedelta(seconds=1))
    live = _session_row(db, carol)
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY, "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-m", "modules.auth.prune"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pruned sessions: 2"
    assert db.exec(select(AuthSession.id).where(col(AuthSession.user_id).in_([bob.id, carol.id]))).all() == [
        live.id
    ]


@pytest.mark.usefixtures("bob")
async def test_logging_out_takes_the_session_off_the_list(client: httpx.AsyncClient) -> None:
    laptop, phone = await _login(client), await _login(client)
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert r.status_code == 204, r.text
    assert [s["current"] for s in (await client.get(SESSIONS, headers=_auth(phone))).json()] == [True]


@pytest.mark.usefixtures("bob")
async def test_a_password_change_ends_every_earlier_session(client: httpx.AsyncClient) -> None:
    laptop, phone = await _login(client), await _login(client)
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a different password"},
        headers=_auth(phone),
    )
    assert r.status_code == 204, r.text
    assert [await _refresh(client, tokens) for tokens in (laptop, phone)] == [401, 401]
    r = await client.post(
        "/api/v1/auth/login", data={"username": "bob@example.com", "password": "a different password"}
    )
    assert [s["current"] for s in (await client.get(SESSIONS, headers=_auth(r.json()))).json()] == [True]
