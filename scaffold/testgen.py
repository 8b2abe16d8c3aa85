"""The tests of an entity made from a field list: the template, with values fit for each field."""

import re

from scaffold.fields import DEFAULT_STR_LENGTH, FieldSpec
from scaffold.names import EXAMPLE, TEMPLATES, Names, rename


def _test_data(specs: list[FieldSpec]) -> dict[str, object]:
    """The values the generated tests send: two valid sets, and what each field must refuse."""
    first, second, invalid = {}, {}, []
    for spec in specs:
        first[spec.name], second[spec.name] = _valid_values(spec)
        invalid += [(spec.name, value) for value in _invalid_values(spec)]
    required = [s.name for s in specs if not s.optional and s.default is None]
    searchable = [s for s in specs if s.searchable]
    return {
        "KINDS": {s.name: s.kind for s in specs},
        "FIRST": first,
        "SECOND": second,
        "REQUIRED": required,
        # What a create leaves out becomes its default (or null).
        "DEFAULTS": {s.name: _json(s.default) for s in specs if s.name not in required},
        "INVALID": invalid,
        "UNIQUE": [s.name for s in specs if s.unique],
        "SORTS": ["created_at", *(s.name for s in specs if s.sortable)],
        "FILTERS": [s.name for s in specs if s.filterable],
        "SEARCH": str(first[searchable[0].name])[:3] if searchable else None,
    }


def _json(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _valid_values(spec: FieldSpec) -> tuple[object, object]:
    """Two values, the first sorting before the second."""
    if spec.kind == "str":
        length = spec.length or DEFAULT_STR_LENGTH
        return "alpha"[:length], "bravo"[:length]
    return {
        "text": ("first text", "second text"),
        "int": (1, 2),
        "float": (1.5, 2.5),
        "decimal": ("10.50", "20.25"),
        "bool": (True, False),
        "date": ("2024-01-15", "2024-02-20"),
        "datetime": ("2024-01-15T10:30:00Z", "2024-02-20T12:00:00Z"),
        "uuid": ("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"),
    }[spec.kind]


def _invalid_values(spec: FieldSpec) -> list[object]:
    values: list[object] = [] if spec.optional else [None]
    if spec.kind in {"str", "text"}:
        values.append(123)
        if spec.nonempty:
            values.append("")
        if spec.kind == "str":
            values.append("x" * ((spec.length or DEFAULT_STR_LENGTH) + 1))
    else:
        wrong: dict[str, list[object]] = {
            "int": ["many", 2**31],
            "float": ["many"],
            "decimal": ["many", "1.234"],
            "bool": ["maybe"],
            "date": ["2024-13-01"],
            "datetime": ["yesterday"],
            "uuid": ["not-a-uuid"],
        }
        values += wrong[spec.kind]
    return values


def generated_tests(names: Names, specs: list[FieldSpec], owned: bool) -> str:
    data = _test_data(specs)
    template = (TEMPLATES / "test_items.py.tmpl").read_text()
    template += (TEMPLATES / f"test_items_{'owned' if owned else 'shared'}.py.tmpl").read_text()
    text = (
        rename(template, EXAMPLE, names)
        .replace("# @DATA@", "\n".join(f"{name} = {value!r}" for name, value in data.items()))
        .replace("@WRITER@", "the owner" if owned else "a superuser (reference data)")
        .replace("@WRITER_FIXTURE@", "user_headers" if owned else "superuser_headers")
    )
    # A test over nothing (no unique field, no text to search) is left out rather than skipped.
    empty = {name for name, value in data.items() if not value}
    return "\n\n\n".join(
        block
        for block in text.split("\n\n\n")
        if not any(
            re.search(
                rf"^@pytest.mark.parametrize\(.*\b{name}\)$|^    assert {name} is not None", block, re.M
            )
            for name in empty
        )
    )
