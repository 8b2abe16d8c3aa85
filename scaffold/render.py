"""Render an entity from the templates in `scaffold/templates`: its module, its tests, its revision.

What comes out is already what the project's formatter would leave: imports sorted and only the
used ones kept, long lines split the way ruff splits them. So a scaffold needs no tool after it
writes, and `modules/items` is simply this rendering for the example's fields.

A project's entities are rendered from its own `scaffold/templates`: a part that a service was
generated without has no template there (nor blocks in the others), so it is never rendered.
"""

import ast
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.naming import table_name
from scaffold.fields import FieldSpec, python_string
from scaffold.migration import VERSIONS, Revision, migration
from scaffold.names import Names
from scaffold.ownership import Ownership

TEMPLATES = Path(__file__).parent / "templates"
LINE_LENGTH = 110  # [tool.ruff] line-length
FIRST_PARTY = ("core", "modules", "tests")  # [tool.ruff.lint.isort] known-first-party


def wrap(
    head: str,
    items: Sequence[str],
    tail: str = "",
    *,
    indent: int = 0,
    brackets: str = "()",
    tuple: bool = False,
    margin: int = 0,
) -> str:
    """`head(a, b)tail` when it fits on the line; otherwise one item a line and a trailing comma,
    the form ruff's formatter keeps as it is. `indent` is where the template puts the first line,
    `margin` what follows it there (1 for an item of a call split one item a line: its comma);
    `tuple` writes a one-item tuple as `(a,)`."""
    pad = " " * indent
    opening, closing = brackets[0], brackets[1]
    comma = "," if tuple and len(items) == 1 else ""
    one_line = f"{head}{opening}{', '.join(items)}{comma}{closing}{tail}"
    if indent + len(one_line) + margin <= LINE_LENGTH:
        return one_line
    inner = "".join(f"{pad}    {item},\n" for item in items)
    return f"{head}{opening}\n{inner}{pad}{closing}{tail}"


def render_entity(
    names: Names,
    specs: list[FieldSpec],
    *,
    ownership: Ownership,
    revision: Revision,
    templates: Path = TEMPLATES,
) -> dict[Path, str]:
    """Every file of the entity, relative to the project root, with its content, rendered from
    `templates` (the project's own; these by default)."""
    sorts = ["created_at", *(spec.name for spec in specs if spec.sortable)]
    refs = [spec for spec in specs if spec.kind == "ref"]
    scope = ownership.column
    context = {
        "names": names,
        "fields": specs,
        "ownership": ownership,
        # Which of the templates' branches: each row an account's, or reference data.
        "owned": ownership is Ownership.USER,
        # <organizations>
        "in_organization": ownership is Ownership.ORGANIZATION,
        # </organizations>
        # The column that gives a row to its owner (None for reference data), and their table.
        "scope": scope,
        "owners": ownership.owners,
        "table": names.plural,
        # An irregular plural (`people`) is not what the Table base derives (`persons`).
        "explicit_table": table_name(names.pascal) != names.plural,
        "kinds": {spec.kind for spec in specs},
        "search": next((spec for spec in specs if spec.searchable), None),
        "filters": [spec for spec in specs if spec.filterable],
        "sorts": sorts,
        "unique": [spec for spec in specs if spec.unique],
        "refs": refs,
        "ref_pairs": [f"{python_string(spec.name)}: {python_string(str(spec.target))}" for spec in refs],
        "table_args": [
            *(f'UniqueConstraint("{spec.name}", "{scope}")' for spec in specs if spec.unique),
            f'Index("ix_{names.plural}_{scope}_created_at", "{scope}", "created_at")',
        ],
        "revision": revision,
    }
    environment = _environment(templates)
    module, tests = Path("modules", names.plural), Path("tests", names.plural)
    outputs = {
        **{module / name: f"module/{name}.jinja" for name in _module_files(templates)},
        tests / f"test_{names.plural}.py": "tests/test_entity.py.jinja",
        VERSIONS / revision.filename: "migration.py.jinja",
    }
    return {
        path: tidy_imports(environment.get_template(template).render(context))
        for path, template in outputs.items()
    }


def _module_files(templates: Path) -> list[str]:
    return sorted(path.name.removesuffix(".jinja") for path in (templates / "module").glob("*.py.jinja"))


@cache  # compiling the templates is most of a scaffold's time: once a process
def _environment(templates: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 (Python source, not HTML)
    )
    environment.globals["wrap"] = wrap
    environment.filters["python_string"] = python_string
    environment.filters["migration"] = migration
    return environment


def tidy_imports(source: str) -> str:
    """Keep the imports the file uses, sorted as ruff's isort sorts them.

    A template lists every import it may need; which are used depends on the fields.
    """
    tree = ast.parse(source)
    statements = tree.body
    start = 1 if statements and _is_docstring(statements[0]) else 0
    end = start
    while end < len(statements) and isinstance(statements[end], ast.Import | ast.ImportFrom):
        end += 1
    if end == start:
        return source
    lines = source.splitlines(keepends=True)
    head = "".join(lines[: statements[start].lineno - 1])
    body = "".join(lines[statements[end - 1].end_lineno or 0 :])
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    sections: dict[int, tuple[set[str], dict[str, set[str]]]] = {
        0: (set(), {}),
        1: (set(), {}),
        2: (set(), {}),
    }
    for statement in statements[start:end]:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in used:
                    text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    sections[_section(alias.name)][0].add(text)
        elif isinstance(statement, ast.ImportFrom):
            module = statement.module or ""
            for alias in statement.names:
                if (alias.asname or alias.name) in used:
                    name = alias.name + (f" as {alias.asname}" if alias.asname else "")
                    sections[_section(module)][1].setdefault(module, set()).add(name)
    blocks = []
    for straight, froms in sections.values():
        block = sorted(straight, key=str.lower)
        for module in sorted(froms, key=str.lower):
            names = sorted(froms[module], key=_name_order)
            block.append(wrap(f"from {module} import ", names, brackets="()"))
        block = [_unparenthesised(line) for line in block]
        if block:
            blocks.append("\n".join(block) + "\n")
    return head + "\n".join(blocks) + body


def _unparenthesised(line: str) -> str:
    # `from x import (a, b)` on one line is written without the parentheses.
    if "\n" not in line and line.startswith("from ") and line.endswith(")"):
        return line.replace(" import (", " import ", 1)[:-1]
    return line


def _section(module: str) -> int:
    top = module.split(".")[0]
    if top in FIRST_PARTY:
        return 2
    return 0 if top in sys.stdlib_module_names else 1


def _name_order(name: str) -> tuple[int, str]:
    # Constants, then classes, then everything else; each ignoring case.
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
    return kind, name.lower()


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
