"""The first superuser: `ensure_first_superuser` and `python -m modules.users.first_superuser`."""

import os
import subprocess
import sys

import pytest
from sqlmodel import Session, select

from core.db import create_db_engine
from core.security import verify_password
from modules.users.models import User
from modules.users.service import ensure_first_superuser
from tests.helpers import PASSWORD, ROOT, TEST_SECRET_KEY, make_settings, migrate

ADMIN_EMAIL = "Admin@Example.com"
ADMIN_PASSWORD = "first superuser password"


def configured(settings, **overrides):
    values = {"FIRST_SUPERUSER_EMAIL": ADMIN_EMAIL, "FIRST_SUPERUSER_PASSWORD": ADMIN_PASSWORD, **overrides}
    return make_settings(settings.DATABASE_URL, **values)


def users(session):
    session.expire_all()
    return session.exec(select(User)).all()


# ensure_first_superuser


def test_ensure_first_superuser_creates_an_active_superuser(db, settings):
    created = ensure_first_superuser(session=db, settings=configured(settings))
    assert created is not None
    [stored] = users(db)
    assert stored.id == created.id
    assert (stored.email, stored.is_superuser, stored.is_active) == ("admin@example.com", True, True)
    assert verify_password(ADMIN_PASSWORD, stored.hashed_password, rounds=4)


async def test_the_first_superuser_can_log_in_and_administer(client, db, settings):
    ensure_first_superuser(session=db, settings=configured(settings))
    r = await client.post("/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 200


def test_ensure_first_superuser_twice_returns_the_same_user(db, settings):
    first = ensure_first_superuser(session=db, settings=configured(settings))
    second = ensure_first_superuser(session=db, settings=configured(settings))
    assert first is not None
    assert second is not None
    assert second.id == first.id
    assert len(users(db)) == 1


def test_ensure_first_superuser_matches_the_email_in_any_case(db, settings):
    first = ensure_first_superuser(session=db, settings=configured(settings))
    again = ensure_first_superuser(
        session=db, settings=configured(settings, FIRST_SUPERUSER_EMAIL="ADMIN@example.com")
    )
    assert again is not None
    assert first is not None
    assert again.id == first.id
    assert len(users(db)) == 1


def test_ensure_first_superuser_does_not_reset_a_changed_password(db, settings):
    ensure_first_superuser(session=db, settings=configured(settings))
    ensure_first_superuser(
        session=db, settings=configured(settings, FIRST_SUPERUSER_PASSWORD="another password")
    )
    [stored] = users(db)
    assert verify_password(ADMIN_PASSWORD, stored.hashed_password, rounds=4)


def test_ensure_first_superuser_leaves_an_existing_account_as_it_is(db, settings, make_user):
    existing = make_user("admin@example.com")
    returned = ensure_first_superuser(session=db, settings=configured(settings))
    assert returned is not None
    assert returned.id == existing.id
    [stored] = users(db)
    assert stored.is_superuser is False
    assert verify_password(PASSWORD, stored.hashed_password, rounds=4)


@pytest.mark.parametrize(
    "overrides",
    [
        {"FIRST_SUPERUSER_EMAIL": None, "FIRST_SUPERUSER_PASSWORD": None},
        {"FIRST_SUPERUSER_PASSWORD": None},
        {"FIRST_SUPERUSER_EMAIL": None},
    ],
    ids=["neither", "email-only", "password-only"],
)
def test_ensure_first_superuser_unconfigured_returns_none_and_creates_nobody(db, settings, overrides):
    assert ensure_first_superuser(session=db, settings=configured(settings, **overrides)) is None
    assert users(db) == []


# python -m modules.users.first_superuser


@pytest.fixture
def fresh_database(make_database_url):
    """A database of its own, migrated, for the command to write to: (url, engine)."""
    urls = make_database_url()
    url = next(urls)
    engine = create_db_engine(make_settings(url))
    migrate(engine)
    yield url, engine
    engine.dispose()
    urls.close()  # drops a PostgreSQL database


def run_command(database_url, **env):
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("FIRST_SUPERUSER_")},
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "BCRYPT_ROUNDS": "4",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "modules.users.first_superuser"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_creates_the_superuser_and_names_it(fresh_database):
    url, engine = fresh_database
    result = run_command(url, FIRST_SUPERUSER_EMAIL=ADMIN_EMAIL, FIRST_SUPERUSER_PASSWORD=ADMIN_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "first superuser: admin@example.com" in result.stdout
    with Session(engine) as session:
        [stored] = users(session)
    assert (stored.email, stored.is_superuser, stored.is_active) == ("admin@example.com", True, True)
    assert verify_password(ADMIN_PASSWORD, stored.hashed_password, rounds=4)


def test_the_command_run_again_keeps_one_account(fresh_database):
    url, engine = fresh_database
    with Session(engine) as session:
        # The state a first run leaves, made in-process to spare a second interpreter start.
        ensure_first_superuser(session=session, settings=configured(make_settings(url)))
    result = run_command(url, FIRST_SUPERUSER_EMAIL=ADMIN_EMAIL, FIRST_SUPERUSER_PASSWORD=ADMIN_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "first superuser: admin@example.com" in result.stdout
    with Session(engine) as session:
        assert len(users(session)) == 1


def test_the_command_unconfigured_says_so_and_creates_nobody(fresh_database):
    url, engine = fresh_database
    result = run_command(url)
    assert result.returncode == 0, result.stderr
    assert "first superuser: not configured" in result.stdout
    with Session(engine) as session:
        assert users(session) == []


def test_the_command_refuses_a_weak_password_without_printing_it(fresh_database):
    url, engine = fresh_database
    result = run_command(url, FIRST_SUPERUSER_EMAIL=ADMIN_EMAIL, FIRST_SUPERUSER_PASSWORD="short12")
    assert result.returncode == 1
    assert "String should have at least 8 characters" in result.stderr
    assert "short12" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    with Session(engine) as session:
        assert users(session) == []
