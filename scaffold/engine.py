"""Plan a scaffold: check the request against the project, then render every file in memory.

A refusal raises before anything is written; `dry_run` only lists what the plan holds.
"""

import ast
import re
from pathlib import Path

from core.modulith.graph import declared_tables
from scaffold.fields import FieldSpec
from scaffold.migration import Revision, next_revision
from scaffold.names import Names, ScaffoldError
from scaffold.ownership import Ownership
from scaffold.render import ROOT, formatted, render_entity

# Rendered once to learn which names the templates use beside the entity's own.
_PROBE = Names(plural="zq_probes", singular="zq_probe")


def existing_tables(root: Path) -> set[str]:
    """Tables the project's models declare, read from their source (nothing is imported): every
    module's, and core's own (the `jobs` table)."""
    sources = [*(root / "modules").glob("*/models.py"), *(root / "core").rglob("models.py")]
    return {table for models in sorted(sources) for table in declared_tables(ast.parse(models.read_text()))}


def ownership_of(root: Path, table: str) -> Ownership:
    """Whose rows an entity's table holds, read from its models.py: the scope column it declares
    (reference data has none, and so, here, has a table that is no entity, `users`)."""
    models = root / "modules" / table / "models.py"
    source = models.read_text() if models.is_file() else ""
    scoped = [o for o in Ownership if o.column and re.search(rf"^\s+{o.column}:", source, re.MULTILINE)]
    return scoped[0] if scoped else Ownership.NONE


def plan(
    root: Path, names: Names, specs: list[FieldSpec], *, ownership: Ownership, named_by_entity: bool = False
) -> dict[Path, str]:
    """Every file the scaffold would write, relative to `root`, with its content."""
    for folder in ("modules", "tests"):
        if (root / folder / names.plural).exists():
            raise ScaffoldError(f"{folder}/{names.plural} already exists")
    tables = existing_tables(root)
    if names.plural in tables:
        raise ScaffoldError(f"a table named {names.plural} already exists")
    if ownership.owners is not None and ownership.owners not in tables:
        raise ScaffoldError(
            f"owned={ownership} needs the {ownership.owners} table, which this project has not"
        )
    for spec in specs:
        if spec.kind == "ref" and spec.target == names.plural:
            raise ScaffoldError(f"field {spec.name!r} refers to its own table: add such a link by hand")
        if spec.kind == "ref" and spec.target not in tables:
            raise ScaffoldError(
                f"field {spec.name!r} refers to {spec.target}, which has no table: add it first"
            )
        if spec.kind == "ref" and spec.target is not None:
            ownership.refuse_reference(spec.name, spec.target, ownership_of(root, spec.target))
    refuse_clashes(names, specs, ownership=ownership, root=root)
    revision = next_revision(root, names.plural, named_by_entity=named_by_entity)
    planned = formatted(root, render_entity(names, specs, ownership=ownership, revision=revision, root=root))
    for path in planned:
        if (root / path).exists():
            raise ScaffoldError(f"{path} already exists")
    return planned


def refuse_clashes(names: Names, specs: list[FieldSpec], *, ownership: Ownership, root: Path = ROOT) -> None:
    """An entity's names must not meet a name the template itself uses in the same file: a
    `sessions` entity's class would be the `Session` the service imports, a `statuses` entity's
    variable fastapi's `status`. Nor may a field be the column that gives the row to its owner."""
    for spec in specs:
        if spec.name == ownership.column:
            raise ScaffoldError(f"field {spec.name!r} is reserved: owned={ownership} adds that column")
    revision = Revision(id="", down_revision=None, filename="x.py")
    # Unformatted, so a refusal needs no ruff (a generation checks its answers with none).
    probe = render_entity(_PROBE, specs, ownership=ownership, revision=revision, root=root)
    # The plural first: it contains the singular.
    forms = {_PROBE.pascal: names.pascal, _PROBE.plural: names.plural, _PROBE.singular: names.singular}
    for path, text in sorted(probe.items()):
        identifiers = _identifiers(text)
        fixed = {name for name in identifiers if not any(form in name for form in forms)}
        for name in sorted(identifiers - fixed):
            for form, real in forms.items():
                name = name.replace(form, real)
            if name in fixed:
                raise ScaffoldError(
                    f"name {names.plural!r} would make {name} in {path.name}, "
                    "which the template already uses there: choose another name"
                )


def _identifiers(source: str) -> set[str]:
    """The names the file defines or uses. An import counts through its uses: one the file does not
    use is one ruff drops from what is written."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            found.add(node.name)
    return found
