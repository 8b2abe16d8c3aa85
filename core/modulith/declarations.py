"""What the reference pages list, read from the source with `ast`, never imported (generation
reads it in a Python without the service's dependencies): the settings of `Settings` and of each
module's `ModuleSettings`, the error codes of `ErrorCode` and of each module's `@error_codes`
enum, and the Makefile's commands.

A field or member is described by the string under it, its attribute docstring (which pydantic
reads too, `use_attribute_docstrings`); an error code's starts with its status (`404: ...`).
"""

import ast
import inspect
import json
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from core.modulith.graph import PACKAGE

# Where core's settings and codes are declared; each module's are in its own file of that name.
CORE_SETTINGS, CORE_CODES = ("core/config.py", "Settings"), ("core/errors.py", "ErrorCode")
# A pydantic `Field`'s constraints, in words.
_LIMITS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}
_ARITHMETIC = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub}
_STATUS = re.compile(r"(\d{3}): (.*)", re.DOTALL)
# The targets `make help` lists: `name:` with a `## ` comment on the same line.
_TARGET = re.compile(r"^([a-z-]+):.*?## (.*)$")


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable's too: pydantic's settings have no alias, no prefix
    kind: str  # the annotation, as written
    default: str | None  # as `.env` would have it; None: unset
    limits: list[str]
    description: str


@dataclass(frozen=True)
class Code:
    value: str
    status: int | None  # None: its docstring does not start with one
    when: str


Item = TypeVar("Item", Setting, Code)


@dataclass(frozen=True)
class Declared(Generic[Item]):
    """A class of settings or of error codes: where it lives, and its fields or members in order."""

    source: str  # from the project's root
    name: str
    description: str
    items: list[Item]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    notes: str  # the comment lines just above the target


def _docstring(node: ast.AST | None) -> str:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return inspect.cleandoc(node.value.value)
    return ""


def _described(body: list[ast.stmt]) -> Iterator[tuple[ast.stmt, str]]:
    """Each statement, with the string under it ("" when there is none)."""
    for statement, after in zip(body, [*body[1:], None], strict=True):
        yield statement, _docstring(after)


def _names(nodes: list[ast.expr]) -> set[str]:
    """The names of bases or decorators: `ModuleSettings`, `config.ModuleSettings` alike."""
    return {node.id if isinstance(node, ast.Name) else getattr(node, "attr", "") for node in nodes}


def _classes(root: Path, source: str, wanted: Callable[[ast.ClassDef], bool]) -> Iterator[ast.ClassDef]:
    tree = ast.parse((root / source).read_text())
    yield from (node for node in tree.body if isinstance(node, ast.ClassDef) and wanted(node))


def _value(node: ast.expr) -> Any:
    """A literal, with arithmetic of numbers (`16 * 1024`) worked out."""
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_value(node.left), _value(node.right))
    return ast.literal_eval(node)


def _as_in_env(node: ast.expr) -> str | None:
    """A value as `.env` has it (`true`, `[]`, `120/minute`), or as code when it is no literal;
    None for None: unset."""
    try:
        value = _value(node)
    except (ValueError, TypeError):
        return ast.unparse(node)
    if value is None:
        return None
    return json.dumps(value) if isinstance(value, bool | list | dict) else str(value)


def _setting(field: ast.AnnAssign, *, name: str, description: str) -> Setting:
    default, limits = field.value, []
    if isinstance(field.value, ast.Call) and _names([field.value.func]) == {"Field"}:
        given = {keyword.arg: keyword.value for keyword in field.value.keywords}
        default = given.get("default", field.value.args[0] if field.value.args else None)
        limits = [f"{words} {_as_in_env(given[key])}" for key, words in _LIMITS.items() if key in given]
        if "pattern" in given:
            limits.append(f"matching `{_as_in_env(given['pattern'])}`")
    return Setting(
        name=name,
        kind=ast.unparse(field.annotation),
        default=None if default is None else _as_in_env(default),
        limits=limits,
        description=description,
    )


def _settings_of(root: Path, source: str, wanted: Callable[[ast.ClassDef], bool]) -> list[Declared[Setting]]:
    found = []
    for node in _classes(root, source, wanted):
        fields = [
            _setting(statement, name=statement.target.id, description=description)
            for statement, description in _described(node.body)
            if isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and not statement.target.id.startswith("_")  # private attributes: no setting
        ]
        found.append(
            Declared(source=source, name=node.name, description=_docstring(node.body[0]), items=fields)
        )
    return found


def setting_classes(root: Path) -> list[Declared[Setting]]:
    """Core's settings, then each module's (`ModuleSettings` in its `settings.py`), in folder order."""
    source, name = CORE_SETTINGS
    found = _settings_of(root, source, lambda node: node.name == name)
    for path in sorted((root / PACKAGE).glob("*/settings.py")):
        found += _settings_of(
            root, str(path.relative_to(root)), lambda node: "ModuleSettings" in _names(node.bases)
        )
    return found


def _codes_of(root: Path, source: str, wanted: Callable[[ast.ClassDef], bool]) -> list[Declared[Code]]:
    found = []
    for node in _classes(root, source, wanted):
        codes = []
        for statement, docstring in _described(node.body):
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
                status = _STATUS.fullmatch(docstring)
                codes.append(
                    Code(
                        value=str(statement.value.value),
                        status=int(status.group(1)) if status else None,
                        when=status.group(2) if status else docstring,
                    )
                )
        found.append(Declared(source=source, name=node.name, description="", items=codes))
    return found


def code_classes(root: Path) -> list[Declared[Code]]:
    """Core's codes, then each module's (`@error_codes` in its `errors.py`), in folder order."""
    source, name = CORE_CODES
    found = _codes_of(root, source, lambda node: node.name == name)
    for path in sorted((root / PACKAGE).glob("*/errors.py")):
        found += _codes_of(
            root, str(path.relative_to(root)), lambda node: "error_codes" in _names(node.decorator_list)
        )
    return found


def commands(root: Path) -> list[Command]:
    """The Makefile's targets with a help comment, in file order, each with the comment lines
    just above it."""
    lines = (root / "Makefile").read_text().splitlines()
    found = []
    for number, line in enumerate(lines):
        if target := _TARGET.match(line):
            above = number
            while above > 0 and lines[above - 1].startswith("#"):
                above -= 1
            notes = " ".join(comment.lstrip("#").strip() for comment in lines[above:number])
            found.append(Command(name=target.group(1), help=target.group(2).strip(), notes=notes))
    return found
