"""Changing one's own address (PATCH /users/me with an email): a link goes to the new address and
following it sets the address. The answer never tells whether another account uses it."""

from collections.abc import Callable

import httpx
import pytest

from core.config import Settings
from modules.users.models import User
from modules.users.settings import UsersSettings
from modules.users.verification import STALE_LINK, USED_LINK
from tests.auth.lifecycle import VERIFY_PATH, Outbox, own_client
from tests.helpers import PASSWORD

ME = "/api/v1/users/me"
CONFIRM = "/api/v1/auth/verify/confirm"
NEW = "alice.new@example.com"


@pytest.fixture
def outbox(caplog: pytest.LogCaptureFixture) -> Outbox:
    return Outbox(caplog)


async def _login(client: httpx.AsyncClient, email: str) -> int:
    r = await client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    return r.status_code


async def test_the_address_changes_only_when_the_link_mailed_to_it_is_followed(
    client: httpx.AsyncClient, user: User, user_headers: dict[str, str], outbox: Outbox
) -> None:
    r = await client.patch(ME, json={"email": "Alice.New@Example.COM"}, headers=user_headers)
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["is_verified"]) == ("alice@example.com", True)
    assert [mail["to"] for mail in outbox.mails()] == [NEW]
    assert (await _login(client, "alice@example.com"), await _login(client, NEW)) == (200, 401)

    r = await client.post(CONFIRM, json={"token": outbox.token(NEW, VERIFY_PATH)})

    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["is_verified"]) == (NEW, True)
    assert (await _login(client, "alice@example.com"), await _login(client, NEW)) == (401, 200)


@pytest.mark.parametrize("taken", ["bob@example.com", "BOB@EXAMPLE.COM"])
async def test_a_taken_address_gets_the_same_answer_as_a_free_one_and_no_mail(
    client: httpx.AsyncClient,
    make_user: Callable[..., User],
    user: User,
    user_headers: dict[str, str],
    outbox: Outbox,
    taken: str,
) -> None:
    make_user("bob@example.com")
    free = await client.patch(ME, json={"email": "free@example.com"}, headers=user_headers)
    used = await client.patch(ME, json={"email": taken}, headers=user_headers)

    assert used.status_code == free.status_code == 200
    assert {**used.json(), "updated_at": None} == {**free.json(), "updated_at": None}
    assert [mail["to"] for mail in outbox.mails()] == ["free@example.com"]
    assert await _login(client, "alice@example.com") == 200


async def test_a_change_link_works_once(
    client: httpx.AsyncClient, user: User, user_headers: dict[str, str], outbox: Outbox
) -> None:
    await client.patch(ME, json={"email": NEW}, headers=user_headers)
    token = outbox.token(NEW, VERIFY_PATH)
    assert (await client.post(CONFIRM, json={"token": token})).status_code == 200

    r = await client.post(CONFIRM, json={"token": token})

    assert r.status_code == 400
    assert r.json() == {"detail": USED_LINK, "code": "link_used"}


async def test_a_change_link_dies_when_another_change_is_confirmed_first(
    client: httpx.AsyncClient, user: User, user_headers: dict[str, str], outbox: Outbox
) -> None:
    await client.patch(ME, json={"email": "first@example.com"}, headers=user_headers)
    await client.patch(ME, json={"email": "second@example.com"}, headers=user_headers)
    first = outbox.token("first@example.com", VERIFY_PATH)
    assert (
        await client.post(CONFIRM, json={"token": outbox.token("second@example.com", VERIFY_PATH)})
    ).status_code == 200

    r = await client.post(CONFIRM, json={"token": first})

    assert r.status_code == 400
    assert r.json() == {
        "detail": STALE_LINK,
        "code": "link_used",
    }


async def test_an_address_taken_before_the_link_is_followed_is_409(
    client: httpx.AsyncClient,
    make_user: Callable[..., User],
    user: User,
    user_headers: dict[str, str],
    outbox: Outbox,
) -> None:
    # Only the holder of the link, who reads that address's mail, learns it.
    await client.patch(ME, json={"email": NEW}, headers=user_headers)
    make_user(NEW)

    r = await client.post(CONFIRM, json={"token": outbox.token(NEW, VERIFY_PATH)})

    assert r.status_code == 409, r.text
    assert await _login(client, "alice@example.com") == 200


async def test_keeping_ones_address_sends_nothing_and_counts_nothing(
    client: httpx.AsyncClient,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    user: User,
    user_headers: dict[str, str],
    outbox: Outbox,
) -> None:
    async with own_client(
        database_url, caplog, RATE_LIMIT_ENABLED=True, RATE_LIMIT_EMAIL_CHANGE="1/hour"
    ) as own:
        answers = [
            (
                await own.patch(
                    ME, json={"email": "ALICE@example.com", "full_name": f"A{n}"}, headers=user_headers
                )
            ).status_code
            for n in range(3)
        ]
    assert answers == [200, 200, 200]
    assert outbox.mails() == []


async def test_email_changes_have_their_own_strict_rate_limit(
    app: object,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    user: User,
    user_headers: dict[str, str],
    outbox: Outbox,
    settings: Settings,
) -> None:
    async with own_client(
        database_url, caplog, RATE_LIMIT_ENABLED=True, RATE_LIMIT_EMAIL_CHANGE="2/hour"
    ) as own:
        answers = [
            (await own.patch(ME, json={"email": f"new{n}@example.com"}, headers=user_headers)).status_code
            for n in range(3)
        ]
        # Other edits of the profile are not counted against it.
        name_only = await own.patch(ME, json={"full_name": "Still Alice"}, headers=user_headers)

    assert answers == [200, 200, 429]
    assert name_only.status_code == 200
    assert [mail["to"] for mail in outbox.mails()] == ["new0@example.com", "new1@example.com"]


async def test_password_changes_have_their_own_strict_rate_limit(
    app: object,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    user: User,
    user_headers: dict[str, str],
) -> None:
    wrong = {"current_password": "not the password", "new_password": "a brand new password"}
    async with own_client(
        database_url, caplog, RATE_LIMIT_ENABLED=True, RATE_LIMIT_PASSWORD_CHANGE="2/minute"
    ) as own:
        answers = [
            (await own.post(f"{ME}/password", json=wrong, headers=user_headers)).status_code for _ in range(3)
        ]

    assert answers == [400, 400, 429]


def test_the_default_limits_are_strict(settings: Settings) -> None:
    users = settings.section(UsersSettings)
    assert (users.RATE_LIMIT_EMAIL_CHANGE, users.RATE_LIMIT_PASSWORD_CHANGE) == ("5/hour", "5/minute")
