"""A client generated from the schema works against the service: openapi-python-client writes a
typed Python package from `/openapi.json`, and these tests use it as a client program would,
over an httpx transport on the app. Errors arrive typed (`Error`, with its `code`), not as None.

The rows are those of whichever entity the service has (the first by name, owned ones first),
created from the body its own rendered tests send (`FIRST`); a service without an entity checks
its accounts and sessions the same way. So no service skips these tests."""

import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from core.crud import table_of
from core.db import Table
from core.discovery import module_names
from core.naming import snake_case
from modules.users.api import OWNED, User
from tests.helpers import PASSWORD, insert_row

PACKAGE = "generated_api_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
OUTPUT = ["--output-path", PACKAGE, "--meta", "none"]


@dataclass(frozen=True)
class Entity:
    """An entity module, as its generated client and its rendered tests name it."""

    name: str  # order_lines
    model: type[Table]  # OrderLine
    first: dict[str, Any]  # a valid body: FIRST of tests/<name>/test_<name>.py
    refs: dict[str, str]  # field -> the table it refers to

    @property
    def owned(self) -> bool:
        return OWNED.column in table_of(self.model).c

    @property
    def row_id(self) -> str:
        """The path parameter naming one row: `order_line_id`."""
        return f"{snake_case(self.model.__name__)}_id"

    async def where(self, client: Any) -> dict[str, Any]:
        """The path parameters beside the row's id that the entity's routes take: none for an
        account's rows or reference data."""
        # <organizations>  (hooks/generate.py drops these blocks from a service generated with tenancy=user)
        if "organization_id" in table_of(self.model).c:  # an organization's: the caller makes one
            body = part("models").OrganizationCreate(name="Writers")
            organization = await part("api.organizations.organizations_create").asyncio(
                client=client, body=body
            )
            return {"organization_id": organization.id}
        # </organizations>
        return {}

    def operation(self, verb: str) -> Any:
        return part(f"api.{self.name}.{self.name}_{verb}")

    def schema(self, suffix: str) -> Any:
        return getattr(part("models"), f"{self.model.__name__}{suffix}")


def _entities() -> list[Entity]:
    found = []
    for name in module_names():
        if find_spec(f"tests.{name}.test_{name}") is None or find_spec(f"modules.{name}.models") is None:
            continue  # not an entity the scaffold made
        rendered = importlib.import_module(f"tests.{name}.test_{name}")
        if not hasattr(rendered, "FIRST"):
            continue
        models = importlib.import_module(f"modules.{name}.models")
        (model,) = (
            value
            for value in vars(models).values()
            if isinstance(value, type)
            and issubclass(value, Table)
            and value.__module__ == models.__name__
            and hasattr(value, "__table__")
        )
        found.append(Entity(name, model, dict(rendered.FIRST), dict(getattr(rendered, "REFS", {}))))
    return sorted(found, key=lambda entity: (not entity.owned, entity.name))


ENTITIES = _entities()
needs_an_entity = pytest.mark.skipif(not ENTITIES, reason="this service has no entity beside auth and users")


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
    return await sign_in(app, anonymous, email)


async def sign_in(app: FastAPI, anonymous: Any, email: str) -> Any:
    """Log in through the generated client; an authenticated client for the account."""
    models = part("models")
    tokens = await part("api.auth.auth_login").asyncio(
        client=anonymous, body=models.LoginForm(username=email, password=PASSWORD)
    )
    assert isinstance(tokens, models.TokenPair)
    return importlib.import_module(PACKAGE).AuthenticatedClient(
        base_url="http://testserver",
        token=tokens.access_token,
        httpx_args={"transport": httpx.ASGITransport(app=app)},
    )


@needs_an_entity
async def test_a_generated_client_creates_reads_and_lists_rows(
    app: FastAPI, anonymous: Any, db: Session, make_user: Callable[..., User]
) -> None:
    entity = ENTITIES[0]
    # Owned rows are the caller's; reference data is a superuser's to write.
    writer = make_user("writer@example.com", is_superuser=not entity.owned)
    async with await sign_in(app, anonymous, writer.email) as client:
        where = await entity.where(client)
        for field, table in entity.refs.items():  # the rows FIRST refers to, the writer's where owned
            insert_row(db, table, id=uuid.UUID(str(entity.first[field])), owner_id=writer.id, **where)
        created = await entity.operation("create").asyncio(
            client=client, body=entity.schema("Create").from_dict(entity.first), **where
        )
        assert isinstance(created, entity.schema("Read"))
        read = await entity.operation("read").asyncio(client=client, **{entity.row_id: created.id}, **where)
        page = await entity.operation("list").asyncio(client=client, **where)
    assert read == created
    assert isinstance(page, entity.schema("Page"))
    assert [row.id for row in page.items] == [created.id]
    assert page.total == 1


@needs_an_entity
async def test_a_missing_row_is_a_typed_not_found(app: FastAPI, anonymous: Any) -> None:
    models = part("models")
    entity = ENTITIES[0]
    alice = await sign_up(app, anonymous, "alice@example.com")
    async with alice:
        answer = await entity.operation("read").asyncio_detailed(
            client=alice, **{entity.row_id: uuid.uuid4()}, **await entity.where(alice)
        )
    assert answer.status_code == 404
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.code == models.ErrorCode.NOT_FOUND


async def test_a_generated_client_reads_and_edits_its_own_account(app: FastAPI, anonymous: Any) -> None:
    models = part("models")
    alice = await sign_up(app, anonymous, "alice@example.com")
    async with alice:
        me = await part("api.users.users_read_me").asyncio(client=alice)
        edited = await part("api.users.users_update_me").asyncio(
            client=alice, body=models.UserUpdateMe(full_name="Alice")
        )
        sessions = await part("api.auth.auth_list_sessions").asyncio(client=alice)
    assert isinstance(me, models.UserRead)
    assert me.email == "alice@example.com"
    assert isinstance(edited, models.UserRead)
    assert edited.full_name == "Alice"
    assert [session.current for session in sessions] == [True]


async def test_someone_elses_session_is_a_typed_not_found(app: FastAPI, anonymous: Any) -> None:
    models = part("models")
    bob = await sign_up(app, anonymous, "bob@example.com")
    alice = await sign_up(app, anonymous, "alice@example.com")
    async with bob, alice:
        (bobs,) = await part("api.auth.auth_list_sessions").asyncio(client=bob)
        answer = await part("api.auth.auth_end_session").asyncio_detailed(client=alice, session_id=bobs.id)
    assert answer.status_code == 404
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.code == models.ErrorCode.NOT_FOUND


async def test_a_bad_token_is_a_typed_unauthorized(app: FastAPI, api_client: ModuleType) -> None:
    models = part("models")
    stranger = api_client.AuthenticatedClient(
        base_url="http://testserver",
        token="not.a.token",
        httpx_args={"transport": httpx.ASGITransport(app=app)},
    )
    async with stranger:
        answer = await part("api.users.users_read_me").asyncio_detailed(client=stranger)
    assert answer.status_code == 401
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.code == models.ErrorCode.UNAUTHORIZED


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
