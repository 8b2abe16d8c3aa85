"""What keeps invitations from being a way to mail anyone anything: only a verified account
invites; invitations have budgets per inviter and per organization; an organization's name is
one line of plain text; and an invitation nobody accepts is deleted when its link expires."""

import os
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from core.db import utcnow
from core.jobs.models import Job, JobStatus
from core.jobs.runner import run_due_jobs
from modules.organizations.models import Invitation
from modules.organizations.service import PRUNE_INVITATION_JOB, UNVERIFIED_INVITER
from tests.auth.lifecycle import own_client
from tests.helpers import require_server
from tests.organizations.helpers import ACCEPT, URL, add_member, invitation_token

BOB, CAROL = "bob@example.com", "carol@example.com"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMITS = {
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_INVITATIONS_PER_INVITER": "3/hour",
    "RATE_LIMIT_INVITATIONS_PER_ORGANIZATION": "4/hour",
}


async def create(client, headers, name="Acme"):
    r = await client.post(URL, json={"name": name}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def send(client, headers, organization, email, role="member"):
    url = f"{URL}/{organization['id']}/invitations"
    return await client.post(url, json={"email": email, "role": role}, headers=headers)


def pending(db):
    db.expire_all()
    return sorted(row.email for row in db.exec(select(Invitation)).all())


# --- Who may invite ---


async def test_an_unverified_account_invites_nobody(client, make_user, headers_for, db, outbox):
    headers = headers_for(make_user("new@example.com", is_verified=False))
    organization = await create(client, headers, "WIN 1000 USD now at https://evil.example/claim")
    r = await send(client, headers, organization, BOB)
    assert (r.status_code, r.json()) == (403, {"detail": UNVERIFIED_INVITER, "code": "forbidden"})
    assert pending(db) == []
    assert outbox.mails() == []


async def test_an_unverified_superuser_invites(client, organization, make_user, headers_for, db, outbox):
    operator = make_user("operator@example.com", is_superuser=True, is_verified=False)
    r = await send(client, headers_for(operator), organization, BOB)
    assert r.status_code == 201, r.text
    assert pending(db) == [BOB]
    assert [mail["to"] for mail in outbox.mails()] == [BOB]


# --- Budgets ---


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    """Where the counts are kept: in the process, or in Redis as several instances share them."""
    if request.param == "memory":
        return "memory://"
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        require_server(f"Redis at {REDIS_URL} does not answer")
    return REDIS_URL  # each test's keys hold its own accounts' and organizations' ids


@pytest.fixture
def limited(app, database_url, caplog, storage):
    """`limited(**settings)`: a client of an app with small invitation budgets."""

    def make(**overrides):
        return own_client(database_url, caplog, **{**LIMITS, "RATE_LIMIT_STORAGE_URL": storage, **overrides})

    return make


def refused(r, limit):
    assert (r.status_code, r.json()) == (
        429,
        {"detail": f"Rate limit exceeded: {limit}", "code": "rate_limited"},
    )
    assert 1 <= int(r.headers["Retry-After"]) <= 3600


async def test_an_inviter_has_one_budget_however_many_organizations_they_make(limited, user_headers, db):
    async with limited() as client:
        first = await create(client, user_headers, "One")
        for n in range(3):
            assert (await send(client, user_headers, first, f"n{n}@example.com")).status_code == 201
        refused(await send(client, user_headers, first, BOB), "3 per 1 hour")
        fresh = await create(client, user_headers, "Two")
        refused(await send(client, user_headers, fresh, BOB), "3 per 1 hour")
    assert len(pending(db)) == 3


async def test_an_organization_has_one_budget_whoever_invites(
    limited, user_headers, make_user, headers_for, db
):
    admin = make_user("admin@example.com")
    admin_headers = headers_for(admin)
    async with limited() as client:
        acme = await create(client, user_headers)
        add_member(db, uuid.UUID(acme["id"]), admin.id, "admin")
        for n in range(3):
            assert (await send(client, user_headers, acme, f"n{n}@example.com")).status_code == 201
        assert (await send(client, admin_headers, acme, CAROL)).status_code == 201
        refused(await send(client, admin_headers, acme, "dave@example.com"), "4 per 1 hour")
        # The admin has budget left, elsewhere.
        other = await create(client, admin_headers, "Other")
        assert (await send(client, admin_headers, other, BOB)).status_code == 201
    assert len(pending(db)) == 5


async def test_invitations_are_sent_unlimited_while_the_counts_storage_is_down(
    app, database_url, caplog, user_headers, db
):
    down = {
        **LIMITS,
        "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:1/0",
        "RATE_LIMIT_INVITATIONS_PER_INVITER": "1/hour",
    }
    async with own_client(database_url, caplog, **down) as client:
        acme = await create(client, user_headers)
        for email in (BOB, CAROL):
            assert (await send(client, user_headers, acme, email)).status_code == 201
    assert pending(db) == [BOB, CAROL]


# --- An organization's name ---


@pytest.mark.parametrize(
    "name",
    [
        "Acme\nBcc: x@evil.example",
        "Acme\r",
        "Acme\tCorp",
        "Acme\u2028Corp",
        "Acme\u2029",
        "Acme\x85",
        "\x1b[31mAcme",
        "Acme\x7f",
    ],
    ids=["lf", "cr", "tab", "line-separator", "paragraph-separator", "next-line", "escape", "delete"],
)
async def test_an_organization_name_is_one_line(client, user_headers, organization, name):
    r = await client.post(URL, json={"name": name}, headers=user_headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error"), r.text
    r = await client.patch(f"{URL}/{organization['id']}", json={"name": name}, headers=user_headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error"), r.text
    r = await client.get(f"{URL}/{organization['id']}", headers=user_headers)
    assert r.json()["name"] == "Acme"


async def test_a_name_in_any_script_is_one_line(client, user_headers, outbox, settings):
    name = "Ünïcødé 团队 — Ωmega 🚀"
    organization = await create(client, user_headers, name)
    assert (await send(client, user_headers, organization, BOB)).status_code == 201
    [mail] = outbox.mails(BOB)
    assert mail["subject"] == f"You are invited to {name} on {settings.PROJECT_NAME}"


# --- Pruning ---


def prune_jobs(db, invitation):
    """The pruning jobs enqueued for the invitation (as the API answered it), oldest first."""
    db.expire_all()
    jobs = db.exec(select(Job).where(Job.kind == PRUNE_INVITATION_JOB).order_by(Job.created_at)).all()
    return [job for job in jobs if job.payload["invitation_id"] == invitation["id"]]


def time_passes(db, job, *, expire=True):
    """What time would do: the job falls due and (with `expire`) the invitation's link expires."""
    past = utcnow() - timedelta(seconds=1)
    db.execute(update(Job).where(Job.id == job.id).values(run_at=past))
    if expire:
        invitation_id = uuid.UUID(job.payload["invitation_id"])
        db.execute(update(Invitation).where(Invitation.id == invitation_id).values(expires_at=past))
    db.commit()


async def test_an_invitation_nobody_accepts_is_deleted_when_its_link_expires(
    client, user_headers, organization, db, engine, settings
):
    bobs, carols = [(await send(client, user_headers, organization, email)).json() for email in (BOB, CAROL)]
    [job] = prune_jobs(db, bobs)
    assert job.run_at == datetime.fromisoformat(bobs["expires_at"])
    assert len(prune_jobs(db, carols)) == 1
    assert run_due_jobs(engine, settings) == 0  # not before its time
    time_passes(db, job)
    assert run_due_jobs(engine, settings) == 1
    assert pending(db) == [CAROL]
    assert db.exec(select(Job).where(Job.status == JobStatus.DEAD)).all() == []


async def test_an_invitation_sent_again_outlives_the_first_ones_expiry(
    client, user_headers, organization, db, engine, settings, make_user, headers_for, outbox
):
    invitation = (await send(client, user_headers, organization, BOB)).json()
    assert (await send(client, user_headers, organization, BOB)).status_code == 201
    first, _second = prune_jobs(db, invitation)
    time_passes(db, first, expire=False)  # the first link's time has come; the second's has not
    assert run_due_jobs(engine, settings) == 1
    assert pending(db) == [BOB]
    bob = make_user(BOB, is_verified=True)
    r = await client.post(ACCEPT, json={"token": invitation_token(outbox, BOB)}, headers=headers_for(bob))
    assert r.status_code == 200, r.text


async def test_an_accepted_invitations_pruning_finds_nothing_to_do(
    client, user_headers, organization, db, engine, settings, make_user, headers_for, outbox
):
    invitation = (await send(client, user_headers, organization, BOB)).json()
    bob = make_user(BOB, is_verified=True)
    r = await client.post(ACCEPT, json={"token": invitation_token(outbox, BOB)}, headers=headers_for(bob))
    assert r.status_code == 200, r.text
    [job] = prune_jobs(db, invitation)
    time_passes(db, job, expire=False)
    assert run_due_jobs(engine, settings) == 1
    assert db.exec(select(Job).where(Job.kind == PRUNE_INVITATION_JOB)).all() == []
