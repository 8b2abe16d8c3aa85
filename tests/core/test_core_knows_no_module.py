"""Core names no module: not its tables, not its routes, not its package. A module plugs into a
seam core offers (`Manifest`, `crud.Scope`, `access.Accounts`, `ModuleSettings`,
`errors.error_codes`), so a service without it is the same core without the folder, and a
generator cuts nothing with markers."""

import re
from pathlib import Path

from sqlmodel import SQLModel

from core import discovery
from tests.helpers import ROOT

CORE = ROOT / "core"
# Words that are also generic: JSON Schema's `items` keyword and a page's `items` field name
# every table called `items` too. Lines holding exactly these are not about the table.
GENERIC = {
    "items": (
        'for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not"):',
        "items: list[T]",
        '{"items": rows, "total": total, "limit": params.limit, "offset": params.offset},',
    )
}
# `# <name>` / `# </name>`: a block a generator cuts from the file.
MARKER = re.compile(r"^\s*#\s*</?([a-z][\w-]*)>")


def _sources(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".md", ".jinja", ".html", ".toml", ".txt"}
        and "__pycache__" not in path.parts
    )


def _module_tables() -> dict[str, set[str]]:
    """Every module's tables, by module, from the metadata the models register."""
    discovery.import_models()
    tables: dict[str, set[str]] = {}
    for mapper in SQLModel._sa_registry.mappers:
        parts = mapper.class_.__module__.split(".")
        if parts[0] == discovery.PACKAGE and mapper.local_table is not None:
            tables.setdefault(parts[1], set()).add(mapper.local_table.name)
    return tables


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    tables = _module_tables()
    for name in discovery.module_names():
        for table in sorted(tables.get(name, ())):
            # A whole word, but not a method of that name (`dict.items()`).
            found.append((f"table {table}", re.compile(rf"(?<![\w.]){re.escape(table)}\b(?!\()")))
        found.append((f"route /{name}", re.compile(rf"/{re.escape(name)}\b")))
        package = re.escape(name)
        found.append((f"module {name}", re.compile(rf"\bmodules\.{package}\b(?!\()|(?<![\w.]){package}\.\w")))
    return found


def _hits(line: str, pattern: re.Pattern[str], what: str) -> bool:
    if not pattern.search(line):
        return False
    word = what.split(" ", 1)[1]
    return line.strip() not in GENERIC.get(word, ())


def test_core_names_no_modules_table_route_or_package() -> None:
    patterns = _patterns()
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}"
        for path in _sources(CORE)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for what, pattern in patterns
        if _hits(line, pattern, what)
    ]
    assert found == [], "\n".join(found)


def test_no_generator_markers_in_core_or_modules() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for root in (CORE, ROOT / discovery.PACKAGE)
        for path in _sources(root)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if MARKER.match(line)
    ]
    assert found == [], "\n".join(found)
