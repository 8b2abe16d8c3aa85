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
from scaffold.edits import Source, edit_fields, edit_shared
from scaffold.fields import FieldSpec, read_model_fields
from scaffold.names import EXAMPLE, TEMPLATES, Names, ScaffoldError, rename
from scaffold.testgen import generated_tests

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
        rename(name, EXAMPLE, names, python=False): Source(
            rename(text, EXAMPLE, names, python=name.endswith(".py")), f"modules/{names.plural}/{name}"
        )
        for name, text in module_sources.items()
    }
    kind = "owner-scoped CRUD" if owned else "reference data every user reads and superusers write"
    files["__init__.py"].text = f'"""{names.prose_plural.capitalize()}: {kind}."""\n'
    # Without `fields`, the copied model keeps the example's, and the migration follows them.
    specs_or_example = specs or read_model_fields(files["models.py"].text, f"{names.pascal}Base")
    if specs is not None:
        edit_fields(files, names, specs)
    if not owned:
        edit_shared(files, names)
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
        planned[Path("tests", names.plural, f"test_{names.plural}.py")] = generated_tests(
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
