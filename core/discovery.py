"""Find the feature modules under `modules/`. The app, Alembic and the tests all ask here.

With MODULES set (`make test module=orders` sets it), only those modules, the ones they depend
on and what core itself stands on (`ModuleMap.slice`) are found: an app of one module's slice,
as its tests see it."""

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import APIRouter

from core.access import Accounts
from core.config import API_PREFIX, ModuleSettings, get_settings
from core.manifest import Manifest, ManifestError
from core.modulith.graph import ModuleMap

PACKAGE = "modules"
# Core's own tables and job handlers; a module's are in its `models.py` and `jobs.py`.
CORE_MODELS = ("core.jobs.models",)
CORE_JOB_HANDLERS = ("core.mail",)


@dataclass(frozen=True)
class FeatureRouter:
    name: str
    router: APIRouter
    # Where it is mounted under the API prefix: `/<folder>`, or below the parent path its manifest
    # names (`mounted_under`: rows that live in a parent, `/parents/{parent_id}/<folder>`).
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


def manifests() -> dict[str, Manifest]:
    """Every module's manifest (its `manifest.py`'s `manifest`), checked, by module name."""
    return {name: _manifest(name) for name in module_names()}


def _manifest(name: str) -> Manifest:
    module = _import_part(name, "manifest")
    if module is None:
        return Manifest()
    found = vars(module).get("manifest")
    if not isinstance(found, Manifest):
        raise ManifestError(name, "manifest", "is not a core.manifest.Manifest")
    found.check(name)
    for part, named in (("jobs", found.jobs), ("listeners", found.listeners)):
        _refuse_unnamed(name, part, named)
    return found


def _refuse_unnamed(name: str, part: str, named: Sequence[Callable[..., Any]]) -> None:
    """A function of the module's `jobs.py` or `listeners.py` that its manifest leaves out would
    never be imported where it must run: refused at startup, rather than silently never run."""
    module = _import_part(name, part)
    if module is None:
        return
    written = [
        value.__name__
        for key, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not key.startswith("_")
    ]
    missing = sorted(set(written) - {function.__name__ for function in named})
    if missing:
        raise ManifestError(name, part, f"leaves out {', '.join(missing)} of {part}.py: name each there")


def import_job_handlers() -> None:
    """Import core's job handlers and every module's manifest, which names (and so imports) its
    jobs and listeners: each job kind has its handler registered (an event's delivery to a
    listener is a job of its own kind)."""
    for qualified in CORE_JOB_HANDLERS:
        importlib.import_module(qualified)
    manifests()


def settings_sections() -> list[type[ModuleSettings]]:
    """Every module's settings class."""
    return [found.settings for found in manifests().values() if found.settings is not None]


def caller() -> Accounts:
    """The accounts callers sign in as, from the one manifest that declares them (`caller`)."""
    declared = [(name, found.caller) for name, found in manifests().items() if found.caller is not None]
    if len(declared) != 1:
        names = ", ".join(name for name, _ in declared) or "none"
        raise ManifestError("*", "caller", f"must be declared by one module, not by {names}")
    return declared[0][1]


def sign_in_url() -> str | None:
    """Where access tokens are issued, from the manifest that declares it (`sign_in`)."""
    for name, found in manifests().items():
        if found.sign_in is not None:
            return f"{API_PREFIX}{found.mounted_under}/{name}{found.sign_in}"
    return None


def routers() -> list[FeatureRouter]:
    """The router of every module whose manifest has one, at the path it names."""
    return [
        FeatureRouter(name=name, router=found.router, path=f"{found.mounted_under}/{name}")
        for name, found in manifests().items()
        if found.router is not None
    ]


def import_parts(part: str) -> dict[str, ModuleType]:
    """Every module's `part` (its `<part>.py`), by module name: for a module that asks every
    other one for a file of its own kind, core knowing nothing of what it holds."""
    return {name: module for name in module_names() if (module := _import_part(name, part)) is not None}
