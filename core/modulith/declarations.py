"""What the reference pages list, read from the source with `ast`, never imported (generation
reads it in a Python without the service's dependencies): the settings of `Settings` and of each
module's `ModuleSettings`, the error codes of `ErrorCode` and of each module's `@error_codes`
enum, the metrics of core/metrics.py and of each module's `metrics.py`, and the Makefile's commands.

A field or member is described by the string under it, its attribute docstring (which pydantic
reads too, `use_attribute_docstrings`); an error code's starts with its status (`404: ...`). A
metric is described by its help, the string prometheus_client serves with it.
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

# Where core's settings, codes and metrics are declared; each module's are in its own file of that name.
CORE_SETTINGS, CORE_CODES = ("core/config.py", "Settings"), ("core/errors.py", "ErrorCode")
CORE_METRICS = "core/metrics.py"
# prometheus_client's metric types (`Counter` is a counter) and the suffixes of the samples each
# serves: a counter's `_total` whether or not the name it was given ends in it.
_SAMPLES = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
# Arguments that would change a metric's name: the page would not show the one scraped.
_RENAMING = {"namespace", "subsystem", "unit"}
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
class Metric:
    source: str  # from the project's root
    name: str  # as prometheus_client keeps it: a counter's without its `_total`
    kind: str  # counter, gauge or histogram
    labels: list[str]
    description: str  # its help, as given

    @property
    def samples(self) -> list[str]:
        """The names Prometheus scrapes: `<name>_total` of a counter, `<name>_bucket`,
        `_sum` and `_count` of a histogram."""
        return [f"{self.name}{suffix}" for suffix in _SAMPLES[self.kind]]


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


def _core_then_modules(
    root: Path,
    read: Callable[[Path, str, Callable[[ast.ClassDef], bool]], list[Declared[Item]]],
    *,
    core: tuple[str, str],
    module_file: str,
    module_wanted: Callable[[ast.ClassDef], bool],
) -> list[Declared[Item]]:
    """`read` of core's class (`core`: its file and name), then of each module's `module_file`,
    in folder order, where `module_wanted` picks its classes."""
    source, name = core
    found = read(root, source, lambda node: node.name == name)
    for path in sorted((root / PACKAGE).glob(f"*/{module_file}")):
        found += read(root, str(path.relative_to(root)), module_wanted)
    return found


def setting_classes(root: Path) -> list[Declared[Setting]]:
    """Core's settings, then each module's (`ModuleSettings` in its `settings.py`), in folder order."""
    return _core_then_modules(
        root,
        _settings_of,
        core=CORE_SETTINGS,
        module_file="settings.py",
        module_wanted=lambda node: "ModuleSettings" in _names(node.bases),
    )


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
    return _core_then_modules(
        root,
        _codes_of,
        core=CORE_CODES,
        module_file="errors.py",
        module_wanted=lambda node: "error_codes" in _names(node.decorator_list),
    )


def _evaluated(node: ast.expr, constants: dict[str, ast.expr]) -> Any:
    """A literal, a constant of the file bound to one, or an f-string of them."""
    if isinstance(node, ast.Name) and node.id in constants:
        return _evaluated(constants[node.id], constants)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(_evaluated(part, constants)) for part in node.values)
    if isinstance(node, ast.FormattedValue) and node.conversion == -1 and node.format_spec is None:
        return _evaluated(node.value, constants)
    return ast.literal_eval(node)


def _metric(call: ast.Call, kind: str, constants: dict[str, ast.expr], source: str) -> Metric:
    given = dict(zip(["name", "documentation", "labelnames"], call.args, strict=False))
    given |= {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    where = f"{source}:{call.lineno}"
    if renaming := sorted(given.keys() & _RENAMING):
        raise ValueError(f"{where}: give the metric its whole name, without {', '.join(renaming)}")
    try:
        name = str(_evaluated(given["name"], constants))
        description = str(_evaluated(given["documentation"], constants))
        labels = (
            [str(label) for label in _evaluated(given["labelnames"], constants)]
            if "labelnames" in given
            else []
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: give a metric its name, help and labels as strings or this file's constants of them"
        ) from exc
    return Metric(
        source=source,
        name=name.removesuffix("_total") if kind == "counter" else name,
        kind=kind,
        labels=labels,
        description=description,
    )


def _metrics_of(root: Path, source: str) -> list[Metric]:
    """Every `Counter`, `Gauge` and `Histogram` the file makes (imported from prometheus_client,
    under any name), in the order they are written: at the top level or inside a dict alike."""
    tree = ast.parse((root / source).read_text())
    types = {
        alias.asname or alias.name: alias.name.lower()
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "prometheus_client"
        for alias in node.names
        if alias.name.lower() in _SAMPLES
    }
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    calls = [
        (node, types[node.func.id])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in types
    ]
    return [
        _metric(call, kind, constants, source)
        for call, kind in sorted(calls, key=lambda found: (found[0].lineno, found[0].col_offset))
    ]


def metrics(root: Path) -> list[Metric]:
    """Core's metrics, then each module's (in its `metrics.py`), in folder order."""
    sources = [
        CORE_METRICS,
        *(str(path.relative_to(root)) for path in sorted((root / PACKAGE).glob("*/metrics.py"))),
    ]
    return [metric for source in sources for metric in _metrics_of(root, source)]


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
