"""What `/openapi.json` says of the text a request may carry, beyond what pydantic writes there.

Two rules hold for every string a client sends, and the schema would otherwise leave them out, so a
client generated from it (or a fuzzer) could send what the server refuses:

- no NUL (`core.schemas.RequestModel` refuses it with lone surrogates: no database stores
  either), stated as a `pattern` on every request string that has none of its own. Lone
  surrogates are left out of the pattern: JSON Schema's patterns treat them unevenly (a range of
  them there made schemathesis generate NULs), and a client has to escape one on purpose;
- an email address is not at a special-use domain (`.test`, `.local`, ...), which email-validator
  refuses though `format: email` allows it, stated as a `pattern` beside the format.

Strings of a fixed form (an enum, a uuid, a date) already exclude both and are left alone.

It also states what only the modules know: the route that issues access tokens, which a module
declares (`Manifest.sign_in`), as the OAuth2 scheme's token URL (core's bearer, `core.access`,
cannot know it), and the modules' own error codes (`core.errors.error_codes`) in `ErrorCode`.
"""

from collections.abc import Callable, Iterator
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from fastapi import FastAPI

from core.errors import every_code

# JSON Schema patterns are ECMA-262 regular expressions; this one reads the same in Python's.
TEXT_PATTERN = "^[^\\u0000]*$"
_FIXED_FORMATS = frozenset({"uuid", "date", "date-time", "time", "duration", "binary", "byte"})


def _any_case(word: str) -> str:
    # ECMA-262 patterns have no inline flags: each letter in both cases.
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else f"\\{c}" if c == "." else c for c in word)


EMAIL_PATTERN = (
    "^(?!.*\\.(?:"
    + "|".join(_any_case(name) for name in sorted(SPECIAL_USE_DOMAIN_NAMES))
    + ")$)[^\\u0000]*$"
)


def _state_text_rules(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Add the patterns to every string of a request's schema, following references once each."""
    if isinstance(schema, list):
        for element in schema:
            _state_text_rules(element, components, seen)
        return
    if not isinstance(schema, dict):
        return
    reference = schema.get("$ref")
    if isinstance(reference, str):
        name = reference.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _state_text_rules(components[name], components, seen)
        return
    if schema.get("type") == "string" and not {"pattern", "enum", "const"} & schema.keys():
        text_format = schema.get("format")
        if text_format == "email":
            schema["pattern"] = EMAIL_PATTERN
        elif text_format not in _FIXED_FORMATS:
            schema["pattern"] = TEXT_PATTERN
    for key in ("properties", "patternProperties", "$defs"):
        for child in (schema.get(key) or {}).values():
            _state_text_rules(child, components, seen)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not"):
        _state_text_rules(schema.get(key), components, seen)


def _request_schemas(document: dict[str, Any]) -> Iterator[Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                yield parameter.get("schema")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield media.get("schema")


def state_text_rules(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the text rules on every string a request carries."""
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for schema in _request_schemas(document):
        _state_text_rules(schema, components, seen)
    return document


def name_sign_in(document: dict[str, Any], url: str) -> dict[str, Any]:
    """The OpenAPI document with every OAuth2 password flow's token URL set to `url`."""
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        password = scheme.get("flows", {}).get("password")
        if password is not None:
            password["tokenUrl"] = url
    return document


def list_error_codes(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document whose `ErrorCode` lists the modules' codes beside core's."""
    codes = document.get("components", {}).get("schemas", {}).get("ErrorCode")
    if codes is not None:
        codes["enum"] = every_code()
    return document


def _amend(app: FastAPI, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Have the app's `/openapi.json` pass through `change` (computed once, as FastAPI does)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = change(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_sign_in(app: FastAPI, url: str) -> None:
    """Have the app's `/openapi.json` give `url` as where access tokens are issued."""
    _amend(app, lambda document: name_sign_in(document, url))


def add_text_rules(app: FastAPI) -> None:
    """Have the app's `/openapi.json` state the text rules and every module's error codes."""
    _amend(app, lambda document: list_error_codes(state_text_rules(document)))
