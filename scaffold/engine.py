"""Add an entity by copying the example module, or take one away again.

`scaffold()` copies `modules/items` and `tests/items`, renames every form of the name, swaps the
example fields for the requested ones and writes the Alembic revision for the new table. It
plans everything in memory first: a refusal writes nothing, and `dry_run` only lists.
"""

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.naming import table_name
from scaffold import migration
from scaffold.fields import DEFAULT_STR_LENGTH, FieldSpec, read_model_fields
from scaffold.names import Names, ScaffoldError, rename

EXAMPLE = Names(plural="items", singular="item")
TEMPLATES = Path(__file__).parent / "templates"
# Where the example is kept once a project removes it from modules/ (see `remove`).
PARKED = Path("scaffold/example")


def _read_tree(directory: Path, suffix: str = "") -> dict[str, str]:
    return {
        str(path.relative_to(directory)).removesuffix(suffix): path.read_text()
        for path in sorted(directory.rglob(f"*{suffix}"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def example_sources(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The example module's files and its tests' files, by relative path.

    Read from modules/items, or from the copy parked when a project removed it; parked files
    carry a `.parked` suffix so no tool (ruff, mypy, pytest) mistakes them for code.
    """
    if (root / "modules/items/models.py").is_file():
        return _read_tree(root / "modules/items"), _read_tree(root / "tests/items")
    if (root / PARKED / "modules/items/models.py.parked").is_file():
        return _read_tree(root / PARKED / "modules/items", ".parked"), _read_tree(
            root / PARKED / "tests/items", ".parked"
        )
    raise ScaffoldError("the example module modules/items is missing, and no parked copy in scaffold/example")


def existing_tables(root: Path) -> set[str]:
    """Tables the project's models declare, read from their source (nothing is imported)."""
    tables = set()
    for models in sorted((root / "modules").glob("*/models.py")):
        for node in ast.parse(models.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                k.arg == "table" and ast.unparse(k.value) == "True" for k in node.keywords
            ):
                explicit = [
                    s.value.value
                    for s in node.body
                    if isinstance(s, ast.Assign)
                    and ast.unparse(s.targets[0]) == "__tablename__"
                    and isinstance(s.value, ast.Constant)
                ]
                tables.add(str(explicit[0]) if explicit else table_name(node.name))
    return tables


def _stale(path: str, what: str) -> ScaffoldError:
    # The example module changed in a way the edits below do not know: say where.
    return ScaffoldError(f"{path}: {what}; the example changed shape and the scaffold needs updating")


class _Source:
    """A Python file edited by its syntax tree: statements are found by structure, not by text."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path

    def tree(self) -> ast.Module:
        return ast.parse(self.text)

    def node(self, kind: type[ast.AST], name: str) -> ast.ClassDef | ast.FunctionDef:
        for node in self.tree().body:
            if isinstance(node, kind) and getattr(node, "name", None) == name:
                assert isinstance(node, ast.ClassDef | ast.FunctionDef)
                return node
        raise _stale(self.path, f"no {name}")

    def replace(self, first: ast.stmt, last: ast.stmt, new: str, *, with_comments: bool = True) -> None:
        """Replace the statements `first`..`last` (and the comment lines just above) with `new`."""
        lines = self.text.splitlines(keepends=True)
        start, end = first.lineno - 1, (last.end_lineno or last.lineno)
        while with_comments and start > 0 and lines[start - 1].strip().startswith("#"):
            start -= 1
        indent = " " * first.col_offset
        block = "".join(f"{indent}{line}\n" if line else "\n" for line in new.splitlines())
        self.text = "".join([*lines[:start], block, *lines[end:]])

    def replace_body(self, name: str, new: str) -> None:
        node = self.node(ast.ClassDef, name)
        body = [s for s in node.body if not _is_docstring(s)] or node.body
        self.replace(body[0], body[-1], new)

    def insert_first(self, class_name: str, new: str) -> None:
        node = self.node(ast.ClassDef, class_name)
        if len(node.body) == 1 and ast.unparse(node.body[0]) == "pass":
            self.replace(node.body[0], node.body[0], new)
            return
        lines = self.text.splitlines(keepends=True)
        indent = " " * node.body[0].col_offset
        self.text = "".join([*lines[: node.lineno], f"{indent}{new}\n", *lines[node.lineno :]])

    def remove_field(self, class_name: str, field: str) -> None:
        node = self.node(ast.ClassDef, class_name)
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and ast.unparse(statement.target) == field:
                rest = [s for s in node.body if s is not statement]
                self.replace(statement, statement, "" if rest else "pass")
                return
        raise _stale(self.path, f"{class_name} has no {field}")

    def sub(self, pattern: str, new: str) -> None:
        """A textual edit that must apply exactly once, or the example has changed shape."""
        self.text, count = re.subn(pattern, new, self.text)
        if count != 1:
            raise _stale(self.path, f"{pattern!r} matched {count} times")

    def add_imports(self, *lines: str) -> None:
        """Add imports after the last one; ruff sorts them and drops those no longer used."""
        existing = self.text.splitlines(keepends=True)
        wanted = [f"{line}\n" for line in lines if f"{line}\n" not in existing]
        imports = [s for s in self.tree().body if isinstance(s, ast.Import | ast.ImportFrom)]
        end = imports[-1].end_lineno or imports[-1].lineno
        self.text = "".join([*existing[:end], *wanted, *existing[end:]])


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _edit_fields(files: dict[str, _Source], names: Names, specs: list[FieldSpec]) -> None:
    entity, var = names.pascal, names.singular
    models, schemas, service = files["models.py"], files["schemas.py"], files["service.py"]
    models.replace_body(f"{entity}Base", "\n".join(spec.model_line() for spec in specs))
    models.add_imports(
        *(["import uuid"] if any(s.kind == "uuid" for s in specs) else []),
        *(["from datetime import date"] if any(s.kind == "date" for s in specs) else []),
        *(["from datetime import datetime"] if any(s.kind == "datetime" for s in specs) else []),
        *(["from decimal import Decimal"] if any(s.kind == "decimal" for s in specs) else []),
        *(["from sqlalchemy import Text"] if any(s.kind == "text" for s in specs) else []),
        *(["from core.db import UTCDateTime"] if any(s.kind == "datetime" for s in specs) else []),
    )
    schemas.replace_body(f"{entity}Update", "\n".join(spec.update_line() for spec in specs))
    schemas.add_imports(
        *(["from datetime import date"] if any(s.kind == "date" for s in specs) else []),
        *(["from decimal import Decimal"] if any(s.kind == "decimal" for s in specs) else []),
    )
    searchable = [s for s in specs if s.searchable]
    query = []
    if searchable:
        description = f"Text to find in the {searchable[0].name}"
        query.append(f'q: str | None = Field(default=None, max_length=200, description="{description}")')
    query += [
        f"{s.name}: {s.python_type.removesuffix(' | None')} | None = None" for s in specs if s.filterable
    ]
    sorts = ["created_at", *(s.name for s in specs if s.sortable)]
    choices = ", ".join(f'"{sign}{name}"' for name in sorts for sign in ("", "-"))
    query.append(f'sort: Literal[{choices}] = "-created_at"')
    schemas.replace_body(f"{entity}Query", "\n".join(query))

    listing = service.node(ast.FunctionDef, f"list_{names.plural}")
    old_filters = [
        s
        for s in listing.body
        if isinstance(s, ast.If)
        and any(isinstance(n, ast.Name) and n.id == "query" for n in ast.walk(s.test))
    ]
    if not old_filters:
        raise _stale(service.path, f"list_{names.plural} has no query filters")
    new_filters = []
    if searchable:
        new_filters.append(
            f"if query.q:\n"
            f"    filters.append(col({entity}.{searchable[0].name}).icontains(query.q, autoescape=True))"
        )
    new_filters += [
        f"if query.{s.name} is not None:\n    filters.append(col({entity}.{s.name}) == query.{s.name})"
        for s in specs
        if s.filterable
    ]
    service.replace(old_filters[0], old_filters[-1], "\n".join(new_filters), with_comments=False)

    update = service.node(ast.FunctionDef, f"update_{var}")
    changes = [s for s in update.body if isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) == "changes"]
    if not changes:
        raise _stale(service.path, f"update_{var} has no `changes`")
    nullable = sorted(s.name for s in specs if s.optional)
    keep = f" or k in {{{', '.join(repr(n) for n in nullable)}}}" if nullable else ""
    service.replace(
        changes[0],
        changes[0],
        '# A null for a field that cannot be null means "leave it".\n'
        f"changes = {{\n    k: v\n    for k, v in {var}_in.model_dump(exclude_unset=True).items()\n"
        f"    if v is not None{keep}\n}}",
    )
    unique = [s.name for s in specs if s.unique]
    if unique:
        _commit_or_conflict(service, names, unique)


def _commit_or_conflict(service: _Source, names: Names, unique: list[str]) -> None:
    """A duplicate of a unique field is a 409 the client can fix, not a database error."""
    for function in (f"create_{names.singular}", f"update_{names.singular}"):
        node = service.node(ast.FunctionDef, function)
        commits = [s for s in node.body if ast.unparse(s) == "session.commit()"]
        if len(commits) != 1:
            raise _stale(service.path, f"{function} does not commit once")
        service.replace(commits[0], commits[0], "_commit_or_conflict(session)", with_comments=False)
    fields = " or ".join(unique)
    service.text += f'''

def _commit_or_conflict(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError("{names.prose.capitalize()} with the same {fields} already exists") from exc
'''
    service.add_imports("from sqlalchemy.exc import IntegrityError", "from core.errors import ConflictError")


def _edit_shared(files: dict[str, _Source], names: Names) -> None:
    """Reference data: no owner column, readable by every signed-in user, written by superusers."""
    entity = names.pascal
    files["models.py"].remove_field(entity, "owner_id")
    files["schemas.py"].remove_field(f"{entity}Read", "owner_id")
    service = files["service.py"]
    service.sub(r", owner_id: uuid\.UUID(?=, )", "")
    service.sub(r", update=\{\"owner_id\": owner_id\}", "")
    service.sub(r", owner_id: uuid\.UUID \| None(?=, )", "")
    service.sub(r" `owner_id=None` lists everyone's\.", "")
    listing = service.node(ast.FunctionDef, f"list_{names.plural}")
    owner_filter = [s for s in listing.body if isinstance(s, ast.If) and "owner_id" in ast.unparse(s.test)]
    if len(owner_filter) != 1:
        raise _stale(service.path, f"no owner filter in list_{names.plural}")
    service.replace(owner_filter[0], owner_filter[0], "", with_comments=False)
    for part in ("router.py", "dependencies.py"):
        files[part].text = rename((TEMPLATES / f"shared_{part}.tmpl").read_text(), EXAMPLE, names)


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


def _generated_tests(names: Names, specs: list[FieldSpec], owned: bool) -> str:
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


def plan(root: Path, names: Names, specs: list[FieldSpec] | None, *, owned: bool) -> dict[Path, str]:
    """Every file the scaffold would write, relative to `root`, with its content."""
    module_sources, test_sources = example_sources(root)
    table = names.plural
    if (root / "modules" / names.plural).exists():
        raise ScaffoldError(f"modules/{names.plural} already exists")
    if (root / "tests" / names.plural).exists():
        raise ScaffoldError(f"tests/{names.plural} already exists")
    if table in existing_tables(root):
        raise ScaffoldError(f"a table named {table} already exists")

    _refuse_clashes(
        names,
        [
            *(
                text
                for name, text in [*module_sources.items(), *test_sources.items()]
                if name.endswith(".py")
            ),
            *(p.read_text() for p in TEMPLATES.glob("*.py.tmpl")),
        ],
    )
    files = {
        rename(name, EXAMPLE, names, python=False): _Source(
            rename(text, EXAMPLE, names, python=name.endswith(".py")), f"modules/{names.plural}/{name}"
        )
        for name, text in module_sources.items()
    }
    kind = "owner-scoped CRUD" if owned else "reference data every user reads and superusers write"
    files["__init__.py"].text = f'"""{names.prose_plural.capitalize()}: {kind}."""\n'
    # Without `fields`, the copied model keeps the example's, and the migration follows them.
    specs_or_example = specs or read_model_fields(files["models.py"].text, f"{names.pascal}Base")
    if specs is not None:
        _edit_fields(files, names, specs)
    if not owned:
        _edit_shared(files, names)
    if table_name(names.pascal) != table:
        # An irregular plural: the derived name (`persons`) is not the one asked for.
        files["models.py"].insert_first(names.pascal, f'__tablename__ = "{table}"')

    planned = {Path("modules", names.plural, name): source.text for name, source in files.items()}
    generate_tests = specs is not None or not owned
    for name, text in test_sources.items():
        if generate_tests and Path(name).name.startswith("test_"):
            continue
        relative = rename(name, EXAMPLE, names, python=False)
        planned[Path("tests", names.plural, relative)] = rename(
            text, EXAMPLE, names, python=name.endswith(".py")
        )
    if generate_tests:
        planned[Path("tests", names.plural, f"test_{names.plural}.py")] = _generated_tests(
            names, specs_or_example, owned
        )

    revision_name, revision = migration.render(
        table=table,
        title=f"Add {names.prose_plural}.",
        specs=specs_or_example,
        owned=owned,
        down_revision=migration.head(migration.read_revisions(root)),
    )
    planned[migration.VERSIONS / revision_name] = revision
    for path in planned:
        if (root / path).exists():
            raise ScaffoldError(f"{path} already exists")
    return planned


def _scopes(source: str) -> list[set[str]]:
    """The names each function sees (its own, and the module's), and the module's alone."""
    tree = ast.parse(source)
    module = {
        alias.asname or alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    module |= {
        n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    }
    module |= {
        n.id
        for s in tree.body
        if isinstance(s, ast.Assign | ast.AnnAssign)
        for n in ast.walk(s)
        if isinstance(n, ast.Name)
    }
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    return [
        module,
        *(
            module
            | {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}
            | {a.arg for a in ast.walk(f) if isinstance(a, ast.arg)}
            for f in functions
        ),
    ]


def _refuse_clashes(names: Names, sources: list[str]) -> None:
    """A renamed name must not meet a name the copied code uses in the same place: `sessions`
    would turn `Item` into the imported `Session`, `statuses` a parameter into fastapi's `status`."""
    for source in sources:
        for scope in _scopes(source):
            renamed = {old: rename(old, EXAMPLE, names, python=False) for old in scope}
            kept = {old for old, new in renamed.items() if old == new}
            for old, new in sorted(renamed.items()):
                if new != old and new in kept:
                    raise ScaffoldError(
                        f"name {names.plural!r} would turn {old} into {new}, which the example already uses"
                    )


def find_ruff(root: Path) -> list[str] | None:
    for candidate in (root / ".venv/bin/ruff", Path(sys.executable).parent / "ruff"):
        if candidate.is_file():
            return [str(candidate)]
    found = shutil.which("ruff")
    return [found] if found else None


def tidy(root: Path, paths: list[Path], *, warn: Callable[[str], None]) -> None:
    """Sort imports, drop unused ones and format: renamed lines change length."""
    ruff = find_ruff(root)
    python = [str(p) for p in paths if p.suffix == ".py"]
    if ruff is None:
        warn("ruff not found: run `make format` to sort imports and format the new files")
        return
    # ruff is the project's own tool, found above; the paths are the files just written.
    subprocess.run([*ruff, "check", "--quiet", "--fix", "--select", "I,F401", *python], cwd=root, check=False)  # noqa: S603
    subprocess.run([*ruff, "format", "--quiet", *python], cwd=root, check=False)  # noqa: S603


def remove_entity(root: Path, name: str) -> tuple[list[Path], Callable[[], None]]:
    """What removing `name` deletes, and the function that does it.

    Meant for a scaffold that has not been migrated yet: the revision that creates the table is
    deleted and the revisions after it are chained onto its parent. The example module is
    parked in scaffold/example first, so `scaffold()` keeps a source to copy from.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(f"name {name!r} is not a lower-case snake_case identifier")
    if name in {"auth", "users"}:
        raise ScaffoldError(f"{name} is part of the service and cannot be removed")
    module = root / "modules" / name
    if not module.is_dir():
        raise ScaffoldError(f"modules/{name} does not exist")
    revisions = migration.read_revisions(root)
    creating = [r for r in revisions if name in r.creates]
    mentions = re.compile(rf"['\"]{name}['\"]")
    touching = [r for r in revisions if r not in creating and mentions.search(r.path.read_text())]
    if len(creating) > 1 or touching:
        others = ", ".join(r.path.name for r in [*creating[1:], *touching])
        raise ScaffoldError(f"table {name} is changed by later revisions ({others}): remove it by hand")
    tests = root / "tests" / name
    doomed = [module, *([tests] if tests.exists() else []), *(r.path for r in creating)]
    park = name == EXAMPLE.plural and not (root / PARKED).exists()

    def run() -> None:
        if park:
            for directory in (module, tests):
                for relative, text in _read_tree(directory).items():
                    parked = root / PARKED / directory.relative_to(root) / f"{relative}.parked"
                    parked.parent.mkdir(parents=True, exist_ok=True)
                    parked.write_text(text)
        for revision in creating:
            for child in (r for r in revisions if r.down_revision == revision.revision):
                text = child.path.read_text()
                text = text.replace(
                    f"Revises: {revision.revision}", f"Revises: {revision.down_revision or ''}"
                )
                parent = rf"\g<2>{revision.down_revision}\g<2>" if revision.down_revision else "None"
                text = re.sub(
                    rf"^(down_revision\b.*=\s*)(['\"]){revision.revision}\2",
                    rf"\g<1>{parent}",
                    text,
                    flags=re.MULTILINE,
                )
                child.path.write_text(text)
            revision.path.unlink()
        for path in (module, tests):
            if path.exists():
                shutil.rmtree(path)

    return [p.relative_to(root) for p in doomed], run
