"""The items module in the OpenAPI schema: readable operation ids, its tag, a token."""

from typing import Any

import httpx
import pytest


async def operations(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return {
        operation["operationId"]: {**operation, "path": path, "method": method}
        for path, methods in response.json()["paths"].items()
        for method, operation in methods.items()
    }


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    [
        ("items-list", "get", "/api/v1/items"),
        ("items-create", "post", "/api/v1/items"),
        ("items-read", "get", "/api/v1/items/{item_id}"),
        ("items-update", "patch", "/api/v1/items/{item_id}"),
        ("items-delete", "delete", "/api/v1/items/{item_id}"),
    ],
)
async def test_operation_ids_are_readable(
    client: httpx.AsyncClient, operation_id: str, method: str, path: str
) -> None:
    operation = (await operations(client))[operation_id]

    assert (operation["method"], operation["path"]) == (method, path)


async def test_operations_carry_the_module_tag_and_need_a_token(client: httpx.AsyncClient) -> None:
    ops = await operations(client)

    listing = ops["items-list"]
    assert listing["tags"] == ["items"]
    assert listing["security"] == [{"OAuth2PasswordBearer": []}]
