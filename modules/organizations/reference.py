"""The module's reference page, permissions.md: a row per permission with what it allows, a
column per role, strongest first, drawn from `permissions.py` by `make modules`
(`core.modulith.reference` finds this file and writes what `pages()` returns beside it).

Generation runs it too, for each new service, in a Python with none of the service's
dependencies and with the template's checkout first on `sys.path`. So it imports the standard
library alone, and loads `permissions.py` (which imports nothing but `enum`) from its own
folder by path, as core loads this file: the page is the project's own, whatever is importable.
"""

import ast
import importlib.util
import inspect
from itertools import pairwise
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).parent
PERMISSIONS = HERE / "permissions.py"
YES = "✓"


def _permissions() -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{__name__}_permissions", PERMISSIONS)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {PERMISSIONS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def allows() -> dict[str, str]:
    """{member name: what it allows}: the string under each member of `Permission`."""
    tree = ast.parse(PERMISSIONS.read_text())
    (permission,) = (
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Permission"
    )
    found = {}
    for statement, after in pairwise(permission.body):
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
        ):
            found[statement.targets[0].id] = inspect.cleandoc(str(after.value.value))
    return found


def permissions_page() -> str:
    permissions = _permissions()
    roles = list(permissions.Role)
    described = allows()
    lines = [
        "# Permissions",
        "",
        "What each role of an organization may do, strongest first. A role is a fixed set of",
        "permissions (`ROLES` in `modules/organizations/permissions.py`), and a route asks for one",
        "with `require(Permission.X)`; `tests/organizations/test_permissions_matrix.py` calls every",
        "route of the module as each role, a non-member and a superuser.",
        "",
        f"| Permission | Allows | {' | '.join(roles)} |",
        f"|---|---|{'---|' * len(roles)}",
    ]
    for permission in permissions.Permission:
        cells = [YES if permission in permissions.ROLES[role] else "" for role in roles]
        allowed = " ".join(described.get(permission.name, "").split())
        lines.append(f"| `{permission}` | {allowed} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    return {"permissions.md": permissions_page()}
