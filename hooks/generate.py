"""What the hooks do, as plain, testable Python.

The new project is the repository root: every file is copied from there, and the few that
depend on the answers are derived from the root's own copy by replacing single, named lines,
so no dependency list or setting exists twice. Only the README is a template of its own.
"""

import fnmatch
import json
import keyword
import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from scaffold import remove, scaffold
from scaffold.entities import Entity, parse_entities
from scaffold.names import ScaffoldError

SUPPORTED_PYTHON = ("3.11", "3.12", "3.13")
CHOICES = {
    "python_version": SUPPORTED_PYTHON,
    "database": ("sqlite", "postgresql"),
    "rate_limit_storage": ("memory", "redis"),
    "open_registration": ("yes", "no"),
    "use_docker": ("yes", "no"),
}
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Template material: never emitted. The README comes from `{{cookiecutter.project_slug}}/`.
TEMPLATE_ONLY = {".git", "cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}", "README.md", "bench"}
# The benchmark measures the template (its items example), so it and its record stay here.
TEMPLATE_ONLY_PATHS = {Path("tests/template"), Path("tests/bench"), Path("docs/performance.md")}
DOCKER_FILES = ("Dockerfile", "compose.yaml", ".dockerignore", "tests/deploy/test_container_files.py")


def validate(answers: dict[str, Any]) -> str | None:
    """The first bad answer, as one line naming it; None when all are fine."""
    slug = str(answers.get("project_slug", ""))
    if not _SLUG.fullmatch(slug):
        return (
            f"project_slug {slug!r} must be lower-case letters and digits, "
            "words joined by '-' or '_', starting with a letter"
        )
    module = slug.replace("-", "_")
    if keyword.iskeyword(module) or module in sys.stdlib_module_names:
        return f"project_slug {slug!r} is a Python keyword or standard-library module name"
    for key, allowed in CHOICES.items():
        if str(answers.get(key)) not in allowed:
            return f"{key} {answers.get(key)!r} must be one of: {', '.join(allowed)}"
    if not str(answers.get("project_name", "")).strip():
        return "project_name must not be empty"
    if not _EMAIL.fullmatch(str(answers.get("author_email", ""))):
        return f"author_email {answers.get('author_email')!r} is not an email address"
    try:
        entities(answers)
    except ScaffoldError as exc:
        return f"entities: {exc}"
    for key in ("project_name", "description", "author_name"):
        if '"""' in str(answers.get(key, "")) or "\n" in str(answers.get(key, "")):
            return f"{key} must be one line without triple quotes"
    return None


def entities(answers: dict[str, Any]) -> list[Entity]:
    """The `entities` answer, in the order they are made. A reference may name them or users."""
    return parse_entities(str(answers.get("entities", "")), existing={"users"})


def _ignored_patterns(root: Path) -> list[str]:
    gitignore = root / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def copy_root(template_root: Path, project: Path) -> None:
    """Copy the service from the template root, leaving out template material and whatever
    git ignores. Files cookiecutter already rendered into the project win."""
    ignored = _ignored_patterns(template_root)

    def emitted(relative: Path) -> bool:
        if len(relative.parts) == 1 and relative.name in TEMPLATE_ONLY:
            return False
        if relative in TEMPLATE_ONLY_PATHS:
            return False
        return not any(fnmatch.fnmatch(relative.name, pattern) for pattern in ignored)

    for directory, subdirectories, files in os.walk(template_root):
        here = Path(directory).relative_to(template_root)
        subdirectories[:] = sorted(name for name in subdirectories if emitted(here / name))
        (project / here).mkdir(exist_ok=True)
        for name in files:
            target = project / here / name
            if emitted(here / name) and not target.exists():
                shutil.copy2(Path(directory) / name, target)


def _replace(path: Path, pattern: str, replacement: str) -> None:
    """Replace one line that must be there: a changed root file fails loudly, not silently."""
    text = path.read_text()
    new_text, count = re.subn(pattern, lambda _match: replacement, text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise SystemExit(f"error: template out of date: {pattern!r} not found in {path.name}")
    path.write_text(new_text)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def derive(project: Path, answers: dict[str, Any]) -> None:
    """Adjust the root's own files to the answers."""
    version = answers["python_version"]
    short = version.replace(".", "")
    pyproject = project / "pyproject.toml"
    _replace(pyproject, r'^name = ".*"$', f"name = {_toml_string(answers['project_slug'])}")
    _replace(
        pyproject,
        r'^description = ".*"$',
        f"description = {_toml_string(answers['description'])}\n"
        f"authors = [{{ name = {_toml_string(answers['author_name'])}, "
        f"email = {_toml_string(answers['author_email'])} }}]",
    )
    _replace(pyproject, r'^requires-python = ".*"$', f'requires-python = ">={version}"')
    _replace(pyproject, r'^target-version = ".*"$', f'target-version = "py{short}"')
    _replace(pyproject, r'^python_version = ".*"$', f'python_version = "{version}"')
    files = re.search(r"^files = \[.*\]$", pyproject.read_text(), flags=re.MULTILINE)
    if files is None:
        raise SystemExit("error: template out of date: no mypy files line in pyproject.toml")
    # The hooks stay behind, so mypy must not look for them.
    _replace(pyproject, r"^files = \[.*\]$", re.sub(r', "hooks/[^"]*"', "", files.group(0)))

    env_example = project / ".env.example"
    _replace(env_example, r"^PROJECT_NAME=.*$", f"PROJECT_NAME={_toml_string(answers['project_name'])}")
    if answers["database"] == "postgresql":
        database = answers["project_slug"].replace("-", "_")
        _replace(
            env_example,
            r"^DATABASE_URL=.*$",
            f"DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        )
    if answers["rate_limit_storage"] == "redis":
        _replace(
            env_example, r"^RATE_LIMIT_STORAGE_URL=.*$", "RATE_LIMIT_STORAGE_URL=redis://127.0.0.1:6379/0"
        )
    if answers["open_registration"] == "no":
        _replace(env_example, r"^OPEN_REGISTRATION=.*$", "OPEN_REGISTRATION=false")

    if version != SUPPORTED_PYTHON[0]:
        # `make` builds .venv with this interpreter; plain python3 may be an older one.
        _replace(project / "Makefile", r"^PYTHON \?= .*$", f"PYTHON ?= python{version}")

    if answers["use_docker"] == "yes":
        _replace(project / "Dockerfile", r"^ARG PYTHON_VERSION=.*$", f"ARG PYTHON_VERSION={version}")
    else:
        for name in DOCKER_FILES:
            (project / name).unlink(missing_ok=True)


def write_env(project: Path) -> None:
    """`.env` from `.env.example`, with a secret key of its own (git ignores `.env`)."""
    text = (project / ".env.example").read_text()
    secret = secrets.token_urlsafe(48)
    text, count = re.subn(r"^SECRET_KEY=.*$", f"SECRET_KEY={secret}", text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise SystemExit("error: template out of date: no SECRET_KEY line in .env.example")
    (project / ".env").write_text(text)


def add_entities(project: Path, listed: list[Entity]) -> None:
    """The example (items) makes way, and each listed entity is rendered from the entity template
    as `make entity` would, its revision named by the entity: generating the same answers twice
    gives the same files, which a template update relies on. Listed with the example's fields,
    items comes back exactly as the root has it."""
    remove(project, "items")
    for entity in listed:
        scaffold(
            project,
            entity.names.plural,
            entity.names.singular,
            entity.fields,
            owned=entity.owned,
            named_by_entity=True,
        )


def generate(*, project: Path, template_root: Path, answers: dict[str, Any]) -> None:
    copy_root(template_root, project)
    derive(project, answers)
    write_env(project)
    add_entities(project, entities(answers))
