"""A client generated from the schema works against the service: openapi-python-client writes a
typed Python package from `/openapi.json`, and these tests use it as a client program would,
over an httpx transport on the app. Errors arrive typed (`Error`, with its `code`), not as None."""

import importlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.discovery import module_names
from tests.helpers import PASSWORD

PACKAGE = "generated_api_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
OUTPUT = ["--output-path", PACKAGE, "--meta", "none"]

# The typed errors of auth hold in every service; the typed rows need the example entity.
needs_items = pytest.mark.skipif(
    "items" not in module_names(), reason="uses items, the example entity, which this service does not have"
)


@pytest.fixture(scope="module")
def api_client(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported. No formatter runs on it (`post_hooks: []`)."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_text(json.dumps(app.openapi()))  # what /openapi.json serves
    (folder / "config.yml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    subprocess.run(
        [GENERATOR, "generate", "--path", "openapi.json", "--config", "config.yml", *OUTPUT],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def part(name: str) -> Any:
    """A module of the generated package: `part("api.items.items_read")`."""
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture
async def anonymous(app: FastAPI, api_client: ModuleType) -> AsyncIterator[Any]:
    async with api_client.Client(
        base_url="http://testserver", httpx_args={"transport": httpx.ASGITransport(app=app)}
    ) as client:
        yield client


async def sign_up(app: FastAPI, anonymous: Any, email: str) -> Any:
    """Register and log in through the generated client; an authenticated client for the account."""
    models = part("models")
    registered = await part("api.auth.auth_register").asyncio_detailed(
        client=anonymous, body=models.UserRegister(email=email, password=PASSWORD)
    )
    assert registered.status_code == 201, registered.content
    assert isinstance(registered.parsed, models.UserRead)
    tokens = await part("api.auth.auth_login").asyncio(
        client=anonymous, body=models.LoginForm(username=email, password=PASSWORD)
    )
    assert isinstance(tokens, models.TokenPair)
    return importlib.import_module(PACKAGE).AuthenticatedClient(
        base_url="http://testserver",
        token=tokens.access_token,
        httpx_args={"transport": httpx.ASGITransport(app=app)},
    )


@needs_items
async def test_a_generated_client_registers_logs_in_creates_and_lists(app: FastAPI, anonymous: Any) -> None:
    models = part("models")
    alice = await sign_up(app, anonymous, "alice@example.com")
    async with alice:
        for title in ("bread", "milk"):
            created = await part("api.items.items_create").asyncio(
                client=alice, body=models.ItemCreate(title=title)
            )
            assert isinstance(created, models.ItemRead)
        page = await part("api.items.items_list").asyncio(client=alice, sort=models.ItemSort.TITLE_DESC)
    assert isinstance(page, models.ItemPage)
    assert [item.title for item in page.items] == ["milk", "bread"]
    assert page.total == 2


@needs_items
async def test_someone_elses_item_is_a_typed_not_found(app: FastAPI, anonymous: Any) -> None:
    models = part("models")
    bob = await sign_up(app, anonymous, "bob@example.com")
    alice = await sign_up(app, anonymous, "alice@example.com")
    async with bob, alice:
        bobs = await part("api.items.items_create").asyncio(
            client=bob, body=models.ItemCreate(title="secret")
        )
        answer = await part("api.items.items_read").asyncio_detailed(client=alice, item_id=bobs.id)
    assert answer.status_code == 404
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.code == models.ErrorCode.NOT_FOUND
    assert answer.parsed.detail == "Item not found"


async def test_a_taken_address_is_a_typed_conflict(app: FastAPI, anonymous: Any) -> None:
    models = part("models")
    await sign_up(app, anonymous, "alice@example.com")
    answer = await part("api.auth.auth_register").asyncio_detailed(
        client=anonymous, body=models.UserRegister(email="alice@example.com", password=PASSWORD)
    )
    assert answer.status_code == 409
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.code == models.ErrorCode.CONFLICT


async def test_a_refused_body_is_a_typed_validation_error(anonymous: Any) -> None:
    models = part("models")
    answer = await part("api.auth.auth_register").asyncio_detailed(
        client=anonymous, body=models.UserRegister(email="alice@example.com", password="short")
    )
    assert answer.status_code == 422
    assert isinstance(answer.parsed, models.ValidationErrors)
    assert [problem.loc for problem in answer.parsed.detail] == [["body", "password"]]
