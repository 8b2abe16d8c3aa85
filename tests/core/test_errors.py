"""The error contract: every error is `{"detail", "code"}`, documented on the operations that
answer it, and nothing a client sends turns into a 500 or comes back when it is a secret."""

import json
import re
import uuid
from enum import StrEnum
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.config import API_PREFIX
from core.errors import ErrorCode, ServiceError, error_codes, every_code
from core.modulith import reference
from core.modulith.declarations import code_classes
from tests.helpers import ROOT

# Bodies every JSON operation must refuse with a 422 whose answer still encodes: half of a
# UTF-16 pair, and numbers JSON has no room for (Python's json module reads them all the same).
UNENCODABLE = ['{"value": "\\ud800"}', '{"value": NaN}', '{"value": Infinity}', '{"value": -Infinity}']
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def json_operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) that reads a JSON body, with its path parameters filled in."""
    found = []
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((method.upper(), PATH_PARAMETER.sub(str(uuid.uuid4()), path)))
    return found


def assert_error(response: httpx.Response, status: int, code: ErrorCode) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"detail", "code"}, body
    assert body["code"] == code
    return body


def test_every_json_operation_is_found(app: FastAPI) -> None:
    assert (
        "POST",
        f"{API_PREFIX}/auth/refresh",
    ) in json_operations(app)


@pytest.mark.parametrize("body", UNENCODABLE)
async def test_unencodable_values_are_a_422_on_every_json_operation(
    app: FastAPI, client: httpx.AsyncClient, superuser_headers: dict[str, str], body: str
) -> None:
    for method, path in json_operations(app):
        headers = {**superuser_headers, "Content-Type": "application/json"}
        response = await client.request(method, path, content=body, headers=headers)
        # Some operations refuse the caller or the id before they read the body; none fails.
        assert response.status_code < 500, (method, path, response.text)
        assert response.json()["code"] in set(ErrorCode), (method, path, response.text)


@pytest.mark.parametrize("body", UNENCODABLE)
async def test_an_unencodable_refresh_token_is_a_422_that_encodes(
    client: httpx.AsyncClient, body: str
) -> None:
    response = await client.post(
        f"{API_PREFIX}/auth/refresh",
        content=body.replace("value", "refresh_token"),
        headers={"Content-Type": "application/json"},
    )

    error = assert_error(response, 422, ErrorCode.VALIDATION_ERROR)
    assert error["detail"][0]["loc"] == ["body", "refresh_token"]
    json.dumps(error, allow_nan=False)


async def test_an_unknown_field_with_a_lone_surrogate_in_its_name_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API_PREFIX}/auth/register",
        content='{"email": "a@example.com", "password": "long enough", "\\udfff": 1}',
        headers={"Content-Type": "application/json"},
    )

    error = assert_error(response, 422, ErrorCode.VALIDATION_ERROR)
    assert (error["detail"][0]["loc"], error["detail"][0]["input"]) == (["body"], "\ufffd")


async def test_a_refused_password_is_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API_PREFIX}/auth/register", json={"email": "a@example.com", "password": "hunter2"}
    )

    error = assert_error(response, 422, ErrorCode.VALIDATION_ERROR)
    assert [problem["loc"] for problem in error["detail"]] == [["body", "password"]]
    assert "input" not in error["detail"][0]
    assert "hunter2" not in response.text


async def test_a_body_echoed_whole_leaves_its_secrets_out(client: httpx.AsyncClient) -> None:
    # A missing field is reported with the whole body as its input.
    response = await client.post(
        f"{API_PREFIX}/auth/register",
        json={"password": "a new secret password", "full_name": "A", "extra": {"refresh_token": "t0ken"}},
    )

    error = assert_error(response, 422, ErrorCode.VALIDATION_ERROR)
    missing = next(problem for problem in error["detail"] if problem["type"] == "missing")
    assert missing["input"] == {"full_name": "A", "extra": {}}
    assert "a new secret password" not in response.text
    assert "t0ken" not in response.text


@pytest.mark.parametrize("offset", [2**63, 2**64, 10**40])
async def test_an_offset_past_any_integer_is_a_422(
    client: httpx.AsyncClient, superuser_headers: dict[str, str], offset: int
) -> None:
    response = await client.get(f"{API_PREFIX}/users", params={"offset": offset}, headers=superuser_headers)

    assert_error(response, 422, ErrorCode.VALIDATION_ERROR)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", f"{API_PREFIX}/users", "GET, POST"),
        ("POST", f"{API_PREFIX}/users/me", "DELETE, GET, PATCH"),
        ("DELETE", "/health", "GET"),
    ],
)
async def test_a_refused_method_names_every_method_the_path_takes(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)

    assert_error(response, 405, ErrorCode.METHOD_NOT_ALLOWED)
    assert response.headers["Allow"] == allowed


async def test_an_unknown_path_is_a_not_found_error(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/no/such/path"), 404, ErrorCode.NOT_FOUND)


def test_every_error_an_operation_documents_is_typed(app: FastAPI) -> None:
    schema = app.openapi()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            errors = {status: answer for status, answer in operation["responses"].items() if status >= "400"}
            if path.startswith(API_PREFIX):
                assert {"429", "503"} <= set(errors), (method, path)
            for status, answer in errors.items():
                model = "ValidationErrors" if status == "422" else "Error"
                if path == "/health/ready":
                    model = "Readiness"
                reference = answer["content"]["application/json"]["schema"]["$ref"]
                assert reference == f"#/components/schemas/{model}", (method, path, status)


def test_schema_names_read_as_written(app: FastAPI) -> None:
    names = set(app.openapi()["components"]["schemas"])

    assert {"Error", "ErrorCode", "ValidationErrors", "LoginForm", "Liveness", "Readiness"} <= names
    assert not [name for name in names if name.startswith(("Body_", "HTTPValidation")) or "Response" in name]


def test_every_error_code_is_on_the_reference_page(app: FastAPI) -> None:
    """Core's codes and every module's (the app has imported them all), in their order."""
    declared = [code.value for codes in code_classes(ROOT) for code in codes.items]
    page = (ROOT / reference.ERRORS).read_text()

    assert declared == every_code()
    assert [code for code in every_code() if f"| `{code}` |" not in page] == []


def _kinds(error: type[ServiceError]) -> list[type[ServiceError]]:
    return [error, *(kind for subclass in error.__subclasses__() for kind in _kinds(subclass))]


def test_the_status_documented_for_a_code_is_the_one_its_error_answers(app: FastAPI) -> None:
    """Each code's docstring starts with its status (`404: ...`); every error class that answers
    the code, core's and the modules', answers that status."""
    documented = {code.value: code.status for codes in code_classes(ROOT) for code in codes.items}
    kinds = _kinds(ServiceError)

    assert [code for code, status in documented.items() if status is None] == []
    assert {kind: documented[kind.code] for kind in kinds} == {kind: kind.status_code for kind in kinds}


def test_the_schema_lists_the_modules_codes_beside_cores(app: FastAPI) -> None:
    listed = app.openapi()["components"]["schemas"]["ErrorCode"]["enum"]

    assert listed == every_code()
    assert set(ErrorCode) < set(listed)


def test_a_module_cannot_declare_a_code_already_taken() -> None:
    class Taken(StrEnum):
        NOT_FOUND = "not_found"

    with pytest.raises(ValueError, match="not_found"):
        error_codes(Taken)
