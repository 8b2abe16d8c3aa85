"""Render an entity from the templates in `scaffold/templates`: its module, its tests, its revision.

Each template is written as the file it renders, over the field specs; laying it out is the
project's own ruff's job, run on what they render (`formatted`): it sorts the imports (a template
writes each where it reads best), drops any left unused, and splits the lines that grew too long.
So `modules/items` is simply this rendering, formatted, for the example's fields.

A project's entities are rendered from its own `scaffold/templates`. What depends on a feature
the service may not have (the admin site) is a boolean of the context, read from the project's
folders; a template that renders to nothing for this entity (`admin.py` without an admin site)
writes no file.
"""

import importlib.util
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.naming import table_name
from scaffold.fields import FieldSpec, python_string
from scaffold.migration import VERSIONS, Revision, migration
from scaffold.names import Names, ScaffoldError
from scaffold.ownership import Ownership

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path("scaffold", "templates")


def has_admin(root: Path) -> bool:
    """Whether the project serves /admin, which lists every entity that brings its views."""
    return (root / "modules" / "admin").is_dir() or (root / "core" / "admin").is_dir()


def render_entity(
    names: Names,
    specs: list[FieldSpec],
    *,
    ownership: Ownership,
    revision: Revision,
    root: Path = ROOT,
) -> dict[Path, str]:
    """Every file of the entity, relative to the project root, with its content as the templates
    of the project at `root` render it (not yet formatted: see `formatted`)."""
    context = {
        "names": names,
        "fields": specs,
        "ownership": ownership,
        # Which of the templates' branches: each row an account's, an organization's (spelled
        # by its owners' table: a service without organizations has no such ownership), or
        # reference data.
        "owned": ownership is Ownership.USER,
        "in_organization": ownership.owners == "organizations",
        # The column that gives a row to its owner (None for reference data).
        "scope": ownership.column,
        "table": names.plural,
        # An irregular plural (`people`) is not what the Table base derives (`persons`).
        "explicit_table": table_name(names.pascal) != names.plural,
        "kinds": {spec.kind for spec in specs},
        "search": next((spec for spec in specs if spec.searchable), None),
        "filters": [spec for spec in specs if spec.filterable],
        "sorts": ["created_at", *(spec.name for spec in specs if spec.sortable)],
        "unique": [spec for spec in specs if spec.unique],
        "refs": [spec for spec in specs if spec.kind == "ref"],
        "revision": revision,
        "admin": has_admin(root),
    }
    templates = root / TEMPLATES
    environment = _environment(templates)
    module, tests = Path("modules", names.plural), Path("tests", names.plural)
    outputs = {
        **{module / name: f"module/{name}.jinja" for name in _module_files(templates)},
        tests / f"test_{names.plural}.py": "tests/test_entity.py.jinja",
        VERSIONS / revision.filename: "migration.py.jinja",
    }
    rendered = {path: environment.get_template(name).render(context) for path, name in outputs.items()}
    return {path: text for path, text in rendered.items() if text.strip()}


def formatted(root: Path, files: dict[Path, str]) -> dict[Path, str]:
    """The files as the project's ruff leaves them, under the project's settings: imports sorted
    and the unused ones dropped, then formatted. Ruff is a dev dependency of every service, so it
    is in the interpreter that runs `make entity`."""
    if importlib.util.find_spec("ruff") is None:
        raise ScaffoldError(f"ruff is not installed for {sys.executable}: run make install first")
    settings = str(root.resolve() / "pyproject.toml")
    with tempfile.TemporaryDirectory() as folder:
        # Laid out as in the project, so its settings apply as they would there: the revision,
        # in migrations/versions, is left as Alembic's own are (`extend-exclude`).
        for path, text in files.items():
            (Path(folder) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / path).write_text(text)
        for command in (["check", "--fix", "--select", "I,F401"], ["format"]):
            options = ["--quiet", "--no-cache", "--force-exclude", "--config", settings]
            result = subprocess.run(  # noqa: S603 (this interpreter's ruff, on files written here)
                [sys.executable, "-m", "ruff", *command, *options, *map(str, files)],
                cwd=folder,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                first = (result.stdout + result.stderr).strip().splitlines()[:1]
                raise ScaffoldError(f"ruff {command[0]} refused the rendering: {''.join(first)}")
        return {path: (Path(folder) / path).read_text() for path in files}


def _module_files(templates: Path) -> list[str]:
    return sorted(path.name.removesuffix(".jinja") for path in (templates / "module").glob("*.py.jinja"))


@cache  # compiling the templates is most of a render's time: once a process
def _environment(templates: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 (Python source, not HTML)
    )
    environment.filters["python_string"] = python_string
    environment.filters["migration"] = migration
    return environment
