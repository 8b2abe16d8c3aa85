"""Find the feature modules under `modules/`. The app, Alembic and the tests all ask here.

With MODULES set (`make test module=orders` sets it), only those modules, the ones they depend
on and what core itself stands on (`ModuleMap.slice`) are found: an app of one module's slice,
as its tests see it."""

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType

from fastapi import APIRouter

from core.config import get_settings
from core.modulith.graph import ModuleMap

PACKAGE = "modules"
# Core's own tables and job handlers; a module's are in its `models.py` and `jobs.py`.
CORE_MODELS = ("core.jobs.models",)
CORE_JOB_HANDLERS = ("core.mail",)


@dataclass(frozen=True)
class FeatureRouter:
    name: str
    router: APIRouter
    # Where it is mounted under the API prefix: `/items`, or below the parent path its router.py
    # names as `MOUNTED_UNDER` (rows that live in a parent: `/parents/{parent_id}/items`).
    path: str


def module_names() -> list[str]:
    """Every sub-package of `modules` (or MODULES' slice of them), in a stable order."""
    package = importlib.import_module(PACKAGE)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg)
    if not get_settings().MODULES:
        return names
    return _slice(Path(package.__path__[0]).parent, tuple(get_settings().MODULES))


@cache
def _slice(root: Path, names: tuple[str, ...]) -> list[str]:
    unknown = set(names) - set(ModuleMap.read(root).modules)
    if unknown:
        raise ValueError(f"MODULES names no module {', '.join(sorted(unknown))}")
    return ModuleMap.read(root).slice(list(names))


def _import_part(name: str, part: str) -> ModuleType | None:
    qualified = f"{PACKAGE}.{name}.{part}"
    return importlib.import_module(qualified) if find_spec(qualified) else None


def _import_everywhere(core_modules: tuple[str, ...], part: str) -> None:
    """Import core's own `core_modules`, then `part` of every module that has one."""
    for qualified in core_modules:
        importlib.import_module(qualified)
    for name in module_names():
        _import_part(name, part)


def import_models() -> None:
    """Import every `models.py`, so all tables are registered on the shared metadata."""
    _import_everywhere(CORE_MODELS, "models")


def import_job_handlers() -> None:
    """Import every `jobs.py` and `listeners.py`, so each job kind has its handler registered
    (an event's delivery to a listener is a job of its own kind)."""
    _import_everywhere(CORE_JOB_HANDLERS, "jobs")
    _import_everywhere((), "listeners")


def routers() -> list[FeatureRouter]:
    """The `router` of every module that has a `router.py`."""
    found = []
    for name in module_names():
        module = _import_part(name, "router")
        if module is not None:
            path = f"{getattr(module, 'MOUNTED_UNDER', '')}/{name}"
            found.append(FeatureRouter(name=name, router=module.router, path=path))
    return found


# <admin>  (hooks/generate.py drops this block from a service generated with admin=no)
def admin_modules() -> list[ModuleType]:
    """Every module's `admin.py`: the views of its tables that /admin shows (`views`), and for
    the module that signs people in, how (`sign_in`). Read by `core.admin`."""
    return [module for name in module_names() if (module := _import_part(name, "admin")) is not None]


# </admin>
