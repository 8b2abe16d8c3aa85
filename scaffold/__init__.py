"""Add an entity by copying the example module: `python -m scaffold add order_lines --fields ...`.

A developer tool, not part of the running service. It needs only the standard library (and
`core.naming`, which does too), so the project template can call it before any install:

    from scaffold import scaffold, remove
    scaffold(Path("."), "order_lines", fields="sku:str:40:unique quantity:int")
"""

import sys
from pathlib import Path

from scaffold.engine import plan, remove_entity, tidy
from scaffold.fields import parse_fields
from scaffold.names import Names, ScaffoldError

__all__ = ["ScaffoldError", "remove", "scaffold"]


def _warn(message: str) -> None:
    print(f"scaffold: {message}", file=sys.stderr)


def scaffold(
    root: Path,
    name: str,
    singular: str | None = None,
    fields: str | None = None,
    owned: bool = True,
    dry_run: bool = False,
) -> list[Path]:
    """Add the entity `name` (plural snake_case) to the project at `root`.

    Returns the files written (or, with `dry_run`, that would be), relative to `root`.
    Raises `ScaffoldError` with a one-line reason, having written nothing.
    """
    names = Names.parse(name, singular)
    specs = parse_fields(fields) if fields is not None else None
    planned = plan(root, names, specs, owned=owned)
    if not dry_run:
        for path, text in planned.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        tidy(root, [root / path for path in planned], warn=_warn)
    return list(planned)


def remove(root: Path, name: str, dry_run: bool = False) -> list[Path]:
    """Remove an entity that has not been migrated yet: its module, tests and revision.

    Removing `items`, the example, keeps a copy in scaffold/example for later scaffolds; this is
    also how a new project drops the example. Returns the paths removed, relative to `root`.
    """
    paths, run = remove_entity(root, name)
    if not dry_run:
        run()
    return paths
