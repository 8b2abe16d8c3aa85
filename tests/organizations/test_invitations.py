"""Invitations as an attacker would try them: someone else's link, a link used, expired, revoked
or replaced, a role above the inviter's, an address not proven yet. And the one way in that
works: the invited address, signed in and verified, accepting once."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import select

from core.security import TokenType, create_token
from modules.organizations.models import Invitation, Membership
from modules.organizations.service import (
    ABOVE_YOURS,
    ALREADY_MEMBER,
    INVALID_LINK,
    INVITATION_LINK,
    NOT_YOURS,
    UNVERIFIED,
)
from modules.users.verification import VERIFY_LINK
from tests.auth.lifecycle import VERIFY_PATH
from tests.helpers import PASSWORD, TEST_SECRET_KEY
from tests.organizations.helpers import (
    ACCEPT,
    BOB,
    INVITATION_PATH,
    URL,
    accept,
    add_member,
    invitation_token,
    invite,
    role_of,
)

INVALID = {"detail": INVALID_LINK, "code": "link_invalid"}


def pending(db):
    db.expire_all()
    return db.exec(select(Invitation)).all()


def resigned(token, **changes):
    """The same link's claims with `changes`, signed with the service's key: what an attacker
    holding the key could never make, so what the service must check beyond the signature."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**claims, **changes}, TEST_SECRET_KEY, algorithm="HS256")


async def test_an_invitation_mails_the_address_a_link(client, user_headers, organization, outbox, settings):
    invitation = await invite(client, user_headers, organization, role="viewer")
    assert set(invitation) == {"id", "organization_id", "email", "role", "expires_at", "created_at"}
    assert (invitation["organization_id"], invitation["email"], invitation["role"]) == (
        organization["id"],
        BOB,
        "viewer",
    )
    lifetime = datetime.fromisoformat(invitation["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=71) < lifetime <= timedelta(hours=72)
    [mail] = outbox.mails()
    assert (mail["to"], mail["subject"]) == (BOB, f"You are invited to Acme on {settings.PROJECT_NAME}")
    assert mail["body"].count(f"{settings.FRONTEND_URL}/{INVITATION_PATH}?token=") == 1
    assert "as viewer" in mail["body"]
    claims = jwt.decode(invitation_token(outbox, BOB), options={"verify_signature": False})
    assert (claims["sub"], claims["type"], claims["aud"]) == (invitation["id"], "invitation", "invitation")


async def test_the_invited_account_accepts_and_joins_with_the_role(
    client, user_headers, organization, outbox, db, bob, bob_headers
):
    await invite(client, user_headers, organization, role="admin")
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["name"], r.json()["role"]) == (organization["id"], "Acme", "admin")
    assert role_of(db, organization, bob.id) == "admin"
    assert pending(db) == []
    r = await client.get(f"{URL}/{organization['id']}", headers=bob_headers)
    assert (r.status_code, r.json()["role"]) == (200, "admin")


async def test_an_address_invited_in_another_case_is_the_same_address(
    client, user_headers, organization, outbox, db, bob, bob_headers
):
    invitation = await invite(client, user_headers, organization, email="Bob@EXAMPLE.com")
    assert invitation["email"] == BOB
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert r.status_code == 200, r.text
    assert role_of(db, organization, bob.id) == "member"


async def test_another_account_cannot_accept_and_the_link_still_works_for_the_invited_one(
    client, user_headers, organization, outbox, db, make_user, headers_for, bob, bob_headers
):
    await invite(client, user_headers, organization)
    token = invitation_token(outbox, BOB)
    mallory = make_user("mallory@example.com", is_verified=True)
    r = await accept(client, headers_for(mallory), token)
    assert (r.status_code, r.json()) == (403, {"detail": NOT_YOURS, "code": "forbidden"})
    assert role_of(db, organization, mallory.id) is None
    # The inviter is signed in, verified, and allowed in already; they cannot use it either.
    r = await accept(client, user_headers, token)
    assert r.status_code == 403, r.text
    assert len(pending(db)) == 1
    assert (await accept(client, bob_headers, token)).status_code == 200
    assert role_of(db, organization, bob.id) == "member"


async def test_a_link_works_once(client, user_headers, organization, outbox, db, bob, bob_headers):
    await invite(client, user_headers, organization)
    token = invitation_token(outbox, BOB)
    assert (await accept(client, bob_headers, token)).status_code == 200
    r = await accept(client, bob_headers, token)
    assert (r.status_code, r.json()) == (400, INVALID)
    # Removed since, they cannot walk back in with it.
    assert (
        await client.delete(f"{URL}/{organization['id']}/members/{bob.id}", headers=user_headers)
    ).status_code == 204
    r = await accept(client, bob_headers, token)
    assert (r.status_code, r.json()) == (400, INVALID)
    assert role_of(db, organization, bob.id) is None


async def test_an_expired_link_is_refused(client, user_headers, organization, outbox, db, bob, bob_headers):
    await invite(client, user_headers, organization)
    token = invitation_token(outbox, BOB)
    expired = resigned(token, exp=int((datetime.now(UTC) - timedelta(seconds=1)).timestamp()))
    r = await accept(client, bob_headers, expired)
    assert (r.status_code, r.json()["code"]) == (400, "link_expired")
    assert role_of(db, organization, bob.id) is None


async def test_a_revoked_link_is_refused(client, user_headers, organization, outbox, db, bob, bob_headers):
    invitation = await invite(client, user_headers, organization)
    url = f"{URL}/{organization['id']}/invitations/{invitation['id']}"
    assert (await client.delete(url, headers=user_headers)).status_code == 204
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (400, INVALID)
    assert role_of(db, organization, bob.id) is None
    assert pending(db) == []
    r = await client.delete(url, headers=user_headers)
    assert (r.status_code, r.json()) == (404, {"detail": "Invitation not found", "code": "not_found"})


async def test_a_deleted_organizations_link_is_refused(
    client, user_headers, organization, outbox, db, bob, bob_headers
):
    await invite(client, user_headers, organization)
    assert (await client.delete(f"{URL}/{organization['id']}", headers=user_headers)).status_code == 204
    r = await accept(client, bob_headers, invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (400, INVALID)
    assert db.exec(select(Membership).where(Membership.user_id == bob.id)).all() == []


async def test_inviting_again_replaces_the_pending_invitation(
    client, user_headers, organization, outbox, db, bob, bob_headers
):
    first = await invite(client, user_headers, organization, role="admin")
    old = invitation_token(outbox, BOB)
    second = await invite(client, user_headers, organization, role="viewer")
    new = invitation_token(outbox, BOB)
    assert len(outbox.mails(BOB)) == 2
    [row] = pending(db)
    assert (str(row.id), row.role) == (first["id"], "viewer") == (second["id"], second["role"])
    r = await client.get(f"{URL}/{organization['id']}/invitations", headers=user_headers)
    assert [(i["id"], i["role"]) for i in r.json()["items"]] == [(first["id"], "viewer")]
    r = await accept(client, bob_headers, old)
    assert (r.status_code, r.json()) == (400, INVALID)
    assert role_of(db, organization, bob.id) is None
    assert (await accept(client, bob_headers, new)).status_code == 200
    assert role_of(db, organization, bob.id) == "viewer"


@pytest.mark.parametrize("claims", [{"nonce": "guessed"}, {"nonce": None}, {"sub": "not-a-uuid"}])
async def test_a_link_whose_claims_were_changed_is_refused(
    client, user_headers, organization, outbox, db, bob, bob_headers, claims
):
    await invite(client, user_headers, organization)
    r = await accept(client, bob_headers, resigned(invitation_token(outbox, BOB), **claims))
    assert (r.status_code, r.json()) == (400, INVALID)
    assert role_of(db, organization, bob.id) is None


async def test_a_link_for_another_invitation_id_is_refused(
    client, user_headers, organization, outbox, bob_headers
):
    await invite(client, user_headers, organization)
    r = await accept(client, bob_headers, resigned(invitation_token(outbox, BOB), sub=str(uuid.uuid4())))
    assert (r.status_code, r.json()) == (400, INVALID)


async def test_a_token_that_is_no_invitation_link_is_refused(client, bob, bob_headers, settings):
    hour = timedelta(hours=1)
    access, _ = create_token(
        subject=str(bob.id), token_type=TokenType.ACCESS, secret=settings.secret_key, lifetime=hour
    )
    verification, _ = VERIFY_LINK.token(subject=bob.id, secret=settings.secret_key, lifetime=hour)
    foreign_invitation, _ = INVITATION_LINK.token(
        subject=bob.id, secret="another-secret-key-long-enough-for-hs256", lifetime=hour
    )

    foreign = [
        "not-a-jwt",
        verification,
        access,
        foreign_invitation,
        bob_headers["Authorization"].removeprefix("Bearer "),
    ]
    for candidate in foreign:
        r = await accept(client, bob_headers, candidate)
        assert (r.status_code, r.json()) == (400, INVALID), candidate


async def test_accepting_takes_a_signed_in_account(client, user_headers, organization, outbox, db):
    await invite(client, user_headers, organization)
    r = await client.post(ACCEPT, json={"token": invitation_token(outbox, BOB)})
    assert r.status_code == 401, r.text
    assert len(pending(db)) == 1


async def test_an_admin_cannot_invite_as_owner(client, organization, member_of, db, outbox):
    _, admin_headers = member_of("admin")
    r = await client.post(
        f"{URL}/{organization['id']}/invitations",
        json={"email": BOB, "role": "owner"},
        headers=admin_headers,
    )
    assert (r.status_code, r.json()) == (403, {"detail": ABOVE_YOURS, "code": "forbidden"})
    assert pending(db) == []
    assert outbox.mails() == []


@pytest.mark.parametrize(("inviter", "role"), [("owner", "owner"), ("admin", "admin"), ("admin", "viewer")])
async def test_an_inviter_grants_up_to_their_own_role(
    client, organization, make_user, headers_for, db, outbox, bob, bob_headers, inviter, role
):
    caller = make_user()
    add_member(db, uuid.UUID(organization["id"]), caller.id, inviter)
    await invite(client, headers_for(caller), organization, role=role)
    assert (await accept(client, bob_headers, invitation_token(outbox, BOB))).status_code == 200
    assert role_of(db, organization, bob.id) == role


async def test_an_admin_cannot_replace_an_owners_invitation_with_its_role(
    client, user_headers, user, organization, member_of, db, outbox
):
    await invite(client, user_headers, organization, role="owner")
    _, admin_headers = member_of("admin")
    r = await client.post(
        f"{URL}/{organization['id']}/invitations",
        json={"email": BOB, "role": "owner"},
        headers=admin_headers,
    )
    assert r.status_code == 403, r.text
    [row] = pending(db)
    assert (row.role, row.invited_by) == ("owner", user.id)


async def test_an_unverified_account_with_the_address_is_refused(
    client, user_headers, organization, outbox, db, make_user, headers_for
):
    unverified = make_user(BOB, is_verified=False)
    await invite(client, user_headers, organization)
    r = await accept(client, headers_for(unverified), invitation_token(outbox, BOB))
    assert (r.status_code, r.json()) == (403, {"detail": UNVERIFIED, "code": "forbidden"})
    assert role_of(db, organization, unverified.id) is None
    assert len(pending(db)) == 1


async def test_a_member_is_not_invited_again(client, user_headers, user, organization, db, outbox):
    r = await client.post(
        f"{URL}/{organization['id']}/invitations", json={"email": user.email}, headers=user_headers
    )
    assert (r.status_code, r.json()) == (409, {"detail": ALREADY_MEMBER, "code": "conflict"})
    assert pending(db) == []
    assert outbox.mails() == []


async def test_an_address_without_an_account_registers_verifies_then_accepts(
    client, user_headers, organization, outbox, db
):
    email = "dave@example.com"
    await invite(client, user_headers, organization, email=email)
    token = invitation_token(outbox, email)
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    login = {"username": email, "password": PASSWORD}

    async def signed_in():
        r = await client.post("/api/v1/auth/login", data=login)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    # Registered, not yet verified: the address is not proven theirs.
    assert (await accept(client, await signed_in(), token)).status_code == 403
    assert (await client.post("/api/v1/auth/verify/request", json={"email": email})).status_code == 202
    verify = outbox.token(email, VERIFY_PATH)
    assert (await client.post("/api/v1/auth/verify/confirm", json={"token": verify})).status_code == 200
    r = await accept(client, await signed_in(), token)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["role"]) == (organization["id"], "member")
    assert pending(db) == []


async def test_the_invitation_list_shows_the_pending_ones_newest_first(client, user_headers, organization):
    first = await invite(client, user_headers, organization, email="one@example.com")
    second = await invite(client, user_headers, organization, email="two@example.com", role="viewer")
    url = f"{URL}/{organization['id']}/invitations"
    r = await client.get(url, headers=user_headers)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 2
    assert [i["id"] for i in r.json()["items"]] == [second["id"], first["id"]]
    r = await client.get(url, params={"limit": 1, "offset": 1}, headers=user_headers)
    assert [i["id"] for i in r.json()["items"]] == [first["id"]]


async def test_an_invitation_is_revoked_only_in_its_own_organization(
    client, user_headers, organization, outbox, db, bob_headers
):
    r = await client.post(URL, json={"name": "Other"}, headers=user_headers)
    other = r.json()
    invitation = await invite(client, user_headers, other)
    # Named under Acme, Other's invitation is not there, though the caller owns both.
    r = await client.delete(
        f"{URL}/{organization['id']}/invitations/{invitation['id']}", headers=user_headers
    )
    assert (r.status_code, r.json()) == (404, {"detail": "Invitation not found", "code": "not_found"})
    assert (await accept(client, bob_headers, invitation_token(outbox, BOB))).status_code == 200
