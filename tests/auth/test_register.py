"""POST /api/v1/auth/register: self-service sign-up."""

import httpx
import pytest
from sqlmodel import select

from core.app import create_app
from modules.auth.router import REGISTRATION_CLOSED
from modules.users.models import User
from modules.users.service import EMAIL_TAKEN
from tests.helpers import PASSWORD, USER_READ_FIELDS, make_settings

REGISTER = "/api/v1/auth/register"


def emails(db):
    db.expire_all()
    return [user.email for user in db.exec(select(User)).all()]


@pytest.fixture
async def closed_client(app, settings):
    """A second app on the same database, with OPEN_REGISTRATION=False."""
    closed = create_app(make_settings(settings.DATABASE_URL, OPEN_REGISTRATION=False))
    transport = httpx.ASGITransport(app=closed, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    closed.state.engine.dispose()


async def test_register_returns_201_and_the_new_user(client):
    r = await client.post(
        REGISTER, json={"email": "bob@example.com", "password": PASSWORD, "full_name": "Bob"}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == USER_READ_FIELDS
    assert body["email"] == "bob@example.com"
    assert body["full_name"] == "Bob"
    assert body["is_active"] is True
    assert body["is_superuser"] is False


async def test_register_without_full_name_leaves_it_empty(client):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["full_name"] is None


async def test_register_never_returns_the_password_or_its_hash(client, db):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert "hashed_password" not in r.json()
    stored = db.exec(select(User)).one()
    assert stored.hashed_password not in r.text
    assert PASSWORD not in r.text


async def test_register_stores_a_bcrypt_hash_not_the_password(client, db):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    stored = db.exec(select(User)).one()
    assert stored.hashed_password != PASSWORD
    assert stored.hashed_password.startswith("$bcrypt-sha256$")


async def test_register_stores_the_email_lower_cased(client, db):
    r = await client.post(REGISTER, json={"email": "Bob.Smith@Example.COM", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "bob.smith@example.com"
    assert emails(db) == ["bob.smith@example.com"]


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"])
async def test_register_taken_email_in_any_case_is_409(client, db, user, email):
    r = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
    assert r.status_code == 409, r.text
    assert r.json() == {"detail": EMAIL_TAKEN, "code": "conflict"}
    assert emails(db) == ["alice@example.com"]


async def test_register_twice_is_409(client):
    first = await client.post(REGISTER, json={"email": "bob@example.com", "password": PASSWORD})
    assert first.status_code == 201, first.text
    second = await client.post(REGISTER, json={"email": "BOB@example.com", "password": "another password"})
    assert second.status_code == 409, second.text


@pytest.mark.parametrize("email", ["not-an-email", "bob@", "@example.com", "bob@@example.com", ""])
async def test_register_invalid_email_is_422(client, db, email):
    r = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
    assert r.status_code == 422, r.text
    assert [error["loc"] for error in r.json()["detail"]] == [["body", "email"]]
    assert emails(db) == []


async def test_register_password_shorter_than_8_characters_is_422(client, db):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": "1234567"})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert "at least 8 characters" in error["msg"]
    assert emails(db) == []


async def test_register_password_of_8_characters_is_accepted(client):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": "12345678"})
    assert r.status_code == 201, r.text


async def test_register_password_over_128_characters_is_422(client, db):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": "x" * 129})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert "at most 128 characters" in error["msg"]
    assert emails(db) == []


async def test_register_password_with_a_nul_character_is_422(client, db):
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": "correct\u0000horse"})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert "NUL" in error["msg"]
    assert emails(db) == []


async def test_register_password_of_128_characters_in_384_bytes_is_accepted_and_logs_in(client):
    password = "€" * 128  # what the schema's maxLength says, whatever its bytes
    r = await client.post(REGISTER, json={"email": "bob@example.com", "password": password})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/auth/login", data={"username": "bob@example.com", "password": password})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("missing", ["email", "password"])
async def test_register_without_a_required_field_is_422(client, missing):
    body = {"email": "bob@example.com", "password": PASSWORD}
    del body[missing]
    r = await client.post(REGISTER, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", missing]


@pytest.mark.parametrize(
    ("field", "value"),
    [("is_superuser", True), ("is_active", False), ("id", "00000000-0000-4000-8000-000000000001")],
)
async def test_register_with_a_privilege_field_is_422_and_creates_nobody(client, db, field, value):
    body = {"email": "bob@example.com", "password": PASSWORD, field: value}
    r = await client.post(REGISTER, json=body)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["type"] == "extra_forbidden"
    assert error["loc"] == ["body", field]
    assert emails(db) == []


async def test_register_when_registration_is_closed_is_403(closed_client, db):
    r = await closed_client.post(REGISTER, json={"email": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 403, r.text
    assert r.json() == {"detail": REGISTRATION_CLOSED, "code": "forbidden"}
    assert emails(db) == []
