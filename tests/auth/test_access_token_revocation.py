"""Access tokens die at once with the sign-ins they came from: a password change or reset, a
sign-out everywhere and a deactivation refuse every access token issued before them, on the next
request, by comparing the token's `iat` with the account's stamp (no query beyond the user's row).

Ending a single session (logout, DELETE /auth/sessions/{id}) stops its refresh token at once and
leaves its access token to expire: checking the session on every request would cost a query.
"""

import time
import uuid
from collections.abc import Callable

import httpx
import jwt
import pytest
from sqlalchemy import Engine, event

from modules.users.models import User
from tests.auth.lifecycle import RESET_PATH, Outbox
from tests.helpers import PASSWORD, TEST_SECRET_KEY

ME = "/api/v1/users/me"
NEW_PASSWORD = "a different password"


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.get(ME, headers=headers)).status_code


def _token_issued_at(user: User, issued_at: float) -> dict[str, str]:
    claims = {
        "sid": str(uuid.uuid4()),
        "sub": str(user.id),
        "type": "access",
        "iat": issued_at,
        "exp": time.time() + 600,
        "jti": uuid.uuid4().hex,
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET_KEY, algorithm='HS256')}"}


async def test_a_password_change_refuses_earlier_access_tokens_at_once(
    client: httpx.AsyncClient, user: User
) -> None:
    laptop, phone = await _login(client, user.email), await _login(client, user.email)
    r = await client.post(
        f"{ME}/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=phone
    )
    assert r.status_code == 204, r.text

    assert [await _me(client, laptop), await _me(client, phone)] == [401, 401]
    assert await _me(client, await _login(client, user.email, NEW_PASSWORD)) == 200


async def test_a_password_reset_refuses_earlier_access_tokens_at_once(
    client: httpx.AsyncClient, user: User, outbox: Outbox
) -> None:
    before = await _login(client, user.email)
    r = await client.post("/api/v1/auth/password-reset/request", json={"email": user.email})
    assert r.status_code == 202, r.text
    token = outbox.token(user.email, RESET_PATH)
    r = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert r.status_code == 204, r.text

    assert await _me(client, before) == 401
    assert await _me(client, await _login(client, user.email, NEW_PASSWORD)) == 200


async def test_a_superuser_setting_the_password_refuses_earlier_access_tokens(
    client: httpx.AsyncClient, user: User, superuser_headers: dict[str, str]
) -> None:
    before = await _login(client, user.email)
    r = await client.patch(
        f"/api/v1/users/{user.id}", json={"password": NEW_PASSWORD}, headers=superuser_headers
    )
    assert r.status_code == 200, r.text

    assert await _me(client, before) == 401


async def test_logout_all_refuses_earlier_access_tokens_at_once(
    client: httpx.AsyncClient, user: User
) -> None:
    laptop, phone = await _login(client, user.email), await _login(client, user.email)
    assert (await client.post("/api/v1/auth/logout-all", headers=phone)).status_code == 204

    assert [await _me(client, laptop), await _me(client, phone)] == [401, 401]
    assert await _me(client, await _login(client, user.email)) == 200


async def test_logout_all_leaves_other_accounts_tokens_alone(
    client: httpx.AsyncClient, user: User, make_user: Callable[..., User]
) -> None:
    other = make_user("other@example.com")
    others = await _login(client, other.email)
    assert (
        await client.post("/api/v1/auth/logout-all", headers=await _login(client, user.email))
    ).status_code == 204

    assert await _me(client, others) == 200


async def test_tokens_from_before_a_deactivation_stay_dead_after_reactivation(
    client: httpx.AsyncClient, user: User, superuser_headers: dict[str, str]
) -> None:
    before = await _login(client, user.email)
    for active in (False, True):
        r = await client.patch(
            f"/api/v1/users/{user.id}", json={"is_active": active}, headers=superuser_headers
        )
        assert r.status_code == 200, r.text

    assert await _me(client, before) == 401
    assert await _me(client, await _login(client, user.email)) == 200


async def test_ending_one_session_leaves_its_access_token_until_it_expires(
    client: httpx.AsyncClient, user: User
) -> None:
    # The documented delay: a single session is not looked up on every request.
    r = await client.post("/api/v1/auth/login", data={"username": user.email, "password": PASSWORD})
    tokens = r.json()
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 204, r.text

    assert await _me(client, {"Authorization": f"Bearer {tokens['access_token']}"}) == 200


async def test_the_stamp_is_compared_to_the_microsecond(
    client: httpx.AsyncClient, user: User, headers_for: Callable[[User], dict[str, str]]
) -> None:
    # A whole-second `iat` would refuse a login made in the same second as a password change.
    stamp = user.password_changed_at.timestamp()

    assert await _me(client, _token_issued_at(user, stamp - 0.001)) == 401
    assert await _me(client, _token_issued_at(user, stamp + 0.001)) == 200


@pytest.mark.parametrize("issued_at", ["yesterday", None, [1]])
async def test_a_token_whose_iat_is_not_a_number_is_refused(
    client: httpx.AsyncClient, user: User, issued_at: object
) -> None:
    assert await _me(client, _token_issued_at(user, issued_at)) == 401  # type: ignore[arg-type]


async def test_checking_the_stamp_costs_no_query_beyond_the_users_row(
    client: httpx.AsyncClient, engine: Engine, user: User, user_headers: dict[str, str]
) -> None:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert await _me(client, user_headers) == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(statements) == 1, statements
    assert "FROM users" in statements[0]
