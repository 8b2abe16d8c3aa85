"""Add an entity from the entity template: `python -m scaffold add order_lines --fields ...`.

A developer tool, not part of the running service. It needs the standard library, Jinja2 and
`core.naming` and `core.modulith` (which read the source, importing nothing of it), and to add an
entity, the project's ruff (a dev dependency), which lays out what the templates render. Adding
or removing an entity changes the modules, so either redraws the pages drawn from the code, as
`make modules` would; of them, an entity changes only the module map, docs/modules.md:

    from scaffold import scaffold, remove
    scaffold(Path("."), "order_lines", fields="order_id:ref:orders sku:str:40:unique quantity:int")
"""

import re
import shutil
from pathlib import Path

from core.modulith import document
from scaffold import migration
from scaffold.engine import plan
from scaffold.fields import EXAMPLE_FIELDS, parse_fields
from scaffold.names import Names, ScaffoldError
from scaffold.ownership import Ownership

__all__ = ["Ownership", "ScaffoldError", "referred_to_by", "remove", "scaffold"]


def scaffold(
    root: Path,
    name: str,
    singular: str | None = None,
    fields: str | None = None,
    ownership: Ownership = Ownership.USER,
    dry_run: bool = False,
    named_by_entity: bool = False,
) -> list[Path]:
    """Add the entity `name` (plural snake_case) to the project at `root`.

    Without `fields` it has the example's (`modules/items`); `ownership` says whose its rows
    are (each account's by default). `named_by_entity` names its
    revision after the entity instead of the clock, as generation does. Returns the files
    written (or, with `dry_run`, that would be), relative to `root`: the module map last.
    Raises `ScaffoldError` with a one-line reason, having written nothing.
    """
    names = Names.parse(name, singular)
    specs = parse_fields(EXAMPLE_FIELDS if fields is None else fields)
    planned = plan(root, names, specs, ownership=ownership, named_by_entity=named_by_entity)
    if not dry_run:
        for path, text in planned.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        # The map is read from the modules on disk, so it is drawn once the new one is there.
        document.write(root)
    return [*planned, Path(document.DOCUMENT)]


def referred_to_by(root: Path, table: str) -> list[str]:
    """The other modules whose models hold a foreign key to `table`."""
    key = f'foreign_key="{table}.id"'
    return [
        models.parent.name
        for models in sorted((root / "modules").glob("*/models.py"))
        if models.parent.name != table and key in models.read_text()
    ]


def remove(root: Path, name: str, dry_run: bool = False) -> list[Path]:
    """Remove an entity that has not been migrated yet: its module, its tests and the revision
    that creates its table (later revisions are chained onto its parent), then redraw the module
    map. Returns the paths removed, relative to `root`."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(f"name {name!r} is not a lower-case snake_case identifier")
    if name in {"auth", "users"}:
        raise ScaffoldError(f"{name} is part of the service and cannot be removed")
    module, tests = root / "modules" / name, root / "tests" / name
    if not module.is_dir():
        raise ScaffoldError(f"modules/{name} does not exist")
    if referring := referred_to_by(root, name):
        raise ScaffoldError(f"{', '.join(referring)} refer to {name}: remove them first")
    revisions = migration.unlink(root, name)
    doomed = [module, *([tests] if tests.exists() else []), *revisions]
    if not dry_run:
        for revision in revisions:
            migration.rechain(root, revision)
        for path in (module, tests):
            if path.exists():
                shutil.rmtree(path)
        document.write(root)
    return [path.relative_to(root) for path in doomed]
