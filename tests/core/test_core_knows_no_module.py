"""Core names no module: not its tables, not its routes, not its package. A module plugs into a
seam core offers (`Manifest`, `crud.Scope`, `access.Accounts`, `ModuleSettings`,
`errors.error_codes`), so a service without it is the same core without the folder, and a
generator cuts nothing with markers.

What is read is core's code: its imports and the strings it uses (a table's name, a foreign key,
a route), not its prose. A service's entities may be named by any word (`orders`, `tasks`), and
core's comments may use the same word in its everyday sense ("sort orders").
"""

import ast
import re
from pathlib import Path

from sqlmodel import SQLModel

from core import discovery
from tests.helpers import ROOT

CORE = ROOT / "core"
# Keywords of OpenAPI and JSON Schema, and a page's fields, which core spells whatever the
# service's modules are called: a module of that name cannot be told from them by a string alone.
KEYWORDS = {"items", "tags", "properties", "required", "paths", "parameters", "responses", "total"}
# `# <name>` / `# </name>`: a block a generator cuts from the file.
MARKER = re.compile(r"^\s*#\s*</?([a-z][\w-]*)>")


def _files(root: Path, suffixes: set[str]) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts
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


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes: prose, like comments."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _code(path: Path) -> list[tuple[int, str, str]]:
    """(line, kind, text) of every import and every string the file's code uses."""
    tree = ast.parse(path.read_text())
    prose = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, "import", alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, "import", node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            found.append((node.lineno, "string", node.value))
    return found


def _names_a_module(kind: str, text: str, name: str, tables: set[str]) -> str | None:
    if kind == "import":
        return (
            f"imports {text}"
            if text == f"{discovery.PACKAGE}.{name}" or text.startswith(f"{discovery.PACKAGE}.{name}.")
            else None
        )
    if re.search(rf"\b{discovery.PACKAGE}\.{re.escape(name)}\b", text):
        return f"module {name}"
    if re.search(rf"/{re.escape(name)}(?:/|\?|$)", text):
        return f"route /{name}"
    for table in tables - KEYWORDS:
        if text == table or text.startswith(f"{table}."):
            return f"table {table}"
    return None


def test_core_names_no_modules_table_route_or_package() -> None:
    tables = _module_tables()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}: {text!r}"
        for path in _files(CORE, {".py"})
        for line, kind, text in _code(path)
        for name in discovery.module_names()
        if (what := _names_a_module(kind, text, name, tables.get(name, set()))) is not None
    ]
    assert found == [], "\n".join(found)


def test_the_scan_finds_a_table_a_route_and_a_package(tmp_path: Path) -> None:
    """The scan above can fail: each way core could name a module is found."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""users, in prose, is fine."""\n'
        "from modules.users.api import User\n"
        'OWNER = "users.id"\n'
        'LOGIN = "/api/v1/auth/login"\n'
        'ACCOUNTS = "users"\n'
    )
    tables = _module_tables()
    found = {
        what
        for _, kind, text in _code(planted)
        for name in ("users", "auth")
        if (what := _names_a_module(kind, text, name, tables.get(name, set()))) is not None
    }

    assert found == {"imports modules.users.api", "table users", "route /auth"}


def test_no_generator_markers_in_core_or_modules() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for root in (CORE, ROOT / discovery.PACKAGE)
        for path in _files(root, {".py", ".md", ".jinja", ".html", ".toml", ".txt"})
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if MARKER.match(line)
    ]
    assert found == [], "\n".join(found)
