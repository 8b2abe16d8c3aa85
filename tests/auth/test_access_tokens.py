"""Access tokens on a protected route (GET /api/v1/users/me): what is accepted and what is not."""

import base64
import json
import time
import uuid
from datetime import timedelta

import jwt
import pytest

from core.access import INVALID_TOKEN
from core.security import TokenType, create_token
from tests.helpers import PASSWORD, TEST_SECRET_KEY

ME = "/api/v1/users/me"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims_for(user_id, **overrides):
    """The claims the service puts in an access token, valid for ten minutes."""
    now = time.time()
    claims = {
        "sid": str(uuid.uuid4()),
        "sub": str(user_id),
        "type": "access",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    return {**claims, **overrides}


def sign(claims, *, secret=TEST_SECRET_KEY, algorithm="HS256"):
    return jwt.encode(claims, secret, algorithm=algorithm)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(r, detail=INVALID_TOKEN):
    assert r.status_code == 401, r.text
    assert r.json() == {"detail": detail, "code": "unauthorized"}
    assert r.headers["www-authenticate"] == "Bearer"


async def test_a_well_formed_token_is_accepted(client, user):
    # The control for every forgery below: the same claims, signed properly, work.
    r = await client.get(ME, headers=bearer(sign(claims_for(user.id))))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(user.id)


async def test_a_token_from_create_token_is_accepted(client, user):
    token, _ = create_token(
        subject=str(user.id),
        token_type=TokenType.ACCESS,
        secret=TEST_SECRET_KEY,
        lifetime=timedelta(minutes=1),
    )
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_no_token_is_401(client, user):
    assert_unauthorized(await client.get(ME), detail="Not authenticated")


async def test_another_authorization_scheme_is_401(client, user):
    basic = base64.b64encode(f"alice@example.com:{PASSWORD}".encode()).decode()
    r = await client.get(ME, headers={"Authorization": f"Basic {basic}"})
    assert_unauthorized(r, detail="Not authenticated")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "Bearer x"])
async def test_a_malformed_token_is_401(client, user, token):
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_a_token_signed_with_another_key_is_401(client, user):
    token = sign(claims_for(user.id), secret="another-secret-key-that-is-long-enough-for-hs256")
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_a_token_with_a_tampered_signature_is_401(client, user):
    header, payload, signature = sign(claims_for(user.id)).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0xFF
    token = f"{header}.{payload}.{b64url(bytes(raw))}"
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_a_token_with_edited_claims_is_401(client, user, superuser):
    # Swap in the superuser's id and keep the user's signature.
    header, _, signature = sign(claims_for(user.id)).split(".")
    token = f"{header}.{b64url_json(claims_for(superuser.id))}.{signature}"
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_an_alg_none_token_is_401(client, user):
    token = f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims_for(user.id))}."
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_an_alg_none_token_with_the_real_signature_is_401(client, user):
    claims = claims_for(user.id)
    _, payload, signature = sign(claims).split(".")
    token = f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_a_token_signed_with_another_algorithm_is_401(client, user):
    token = sign(claims_for(user.id), algorithm="HS512")
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_an_expired_token_is_401(client, user):
    token, _ = create_token(
        subject=str(user.id),
        token_type=TokenType.ACCESS,
        secret=TEST_SECRET_KEY,
        lifetime=timedelta(seconds=-1),
    )
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_a_refresh_token_from_login_is_401_as_an_access_token(client, user):
    r = await client.post("/api/v1/auth/login", data={"username": "alice@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert_unauthorized(await client.get(ME, headers=bearer(r.json()["refresh_token"])))


@pytest.mark.parametrize("token_type", ["refresh", "id", ""])
async def test_a_token_of_another_type_is_401(client, user, token_type):
    token = sign(claims_for(user.id, type=token_type))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


@pytest.mark.parametrize("sub", ["alice@example.com", "", "1234", "not-a-uuid-at-all-0000000000000000"])
async def test_a_token_whose_subject_is_not_a_uuid_is_401(client, user, sub):
    assert_unauthorized(await client.get(ME, headers=bearer(sign(claims_for(user.id, sub=sub)))))


async def test_a_token_whose_subject_is_not_a_string_is_401(client, user):
    assert_unauthorized(await client.get(ME, headers=bearer(sign(claims_for(user.id, sub=user.id.int)))))


@pytest.mark.parametrize("claim", ["sub", "type", "iat", "exp", "jti"])
async def test_a_token_missing_a_claim_is_401(client, user, claim):
    claims = claims_for(user.id)
    del claims[claim]
    assert_unauthorized(await client.get(ME, headers=bearer(sign(claims))))


async def test_a_token_for_an_unknown_user_is_401(client, user):
    assert_unauthorized(await client.get(ME, headers=bearer(sign(claims_for(uuid.uuid4())))))


async def test_a_deleted_users_token_is_401_on_the_next_request(client, db, user, user_headers):
    assert (await client.get(ME, headers=user_headers)).status_code == 200
    db.delete(user)
    db.commit()
    assert_unauthorized(await client.get(ME, headers=user_headers))


async def test_a_deactivated_users_token_is_401_on_the_next_request(client, db, user, user_headers):
    assert (await client.get(ME, headers=user_headers)).status_code == 200
    user.is_active = False
    db.add(user)
    db.commit()
    assert_unauthorized(await client.get(ME, headers=user_headers))
