"""Find the feature modules under `modules/`. The app, Alembic and the tests all ask here."""

import importlib
import pkgutil
from dataclasses import dataclass
from importlib.util import find_spec
from types import ModuleType

from fastapi import APIRouter

PACKAGE = "modules"
# Core's own tables and job handlers; a module's are in its `models.py` and `jobs.py`.
CORE_MODELS = ("core.jobs.models",)
CORE_JOB_HANDLERS = ("core.mail",)


@dataclass(frozen=True)
class FeatureRouter:
    name: str
    router: APIRouter


def module_names() -> list[str]:
    """Every sub-package of `modules`, in a stable order."""
    package = importlib.import_module(PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg)


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
    """Import every `jobs.py`, so each job kind has its handler registered."""
    _import_everywhere(CORE_JOB_HANDLERS, "jobs")


def routers() -> list[FeatureRouter]:
    """The `router` of every module that has a `router.py`."""
    found = []
    for name in module_names():
        module = _import_part(name, "router")
        if module is not None:
            found.append(FeatureRouter(name=name, router=module.router))
    return found


# <admin>  (hooks/generate.py drops this block from a service generated with admin=no)
def admin_modules() -> list[ModuleType]:
    """Every module's `admin.py`: the views of its tables that /admin shows (`views`), and for
    the module that signs people in, how (`sign_in`). Read by `core.admin`."""
    return [module for name in module_names() if (module := _import_part(name, "admin")) is not None]


# </admin>
