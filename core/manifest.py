"""What a module declares to core: one typed `Manifest`, in its `manifest.py`.

    manifest = Manifest(router=router, settings=OrdersSettings, jobs=(render_invoice,))

Discovery (`core.discovery`) reads nothing else of a module but its `models.py` (its tables, for
Alembic): no attribute is looked up by name. Every field is checked when the app starts, and a
wrong one stops it with one line naming the module and the field.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from core.access import Accounts
from core.config import ModuleSettings


class ManifestError(SystemExit):
    """A module's manifest that cannot be served. A `SystemExit`: the process stops with one line."""

    def __init__(self, module: str, field_name: str, reason: str) -> None:
        super().__init__(f"modules/{module}/manifest.py: {field_name} {reason}")


@dataclass(frozen=True, kw_only=True)
class Manifest:
    # The module's routes, mounted at `<API_PREFIX><mounted_under>/<module folder>`.
    router: APIRouter | None = None
    # A parent path for rows that live in a parent: `/parents/{parent_id}`.
    mounted_under: str = ""
    # Its settings, read from the one `.env` (`Settings.section(kind)`).
    settings: type[ModuleSettings] | None = None
    # Its job handlers (`@handler`) and event listeners (`@listener`): naming them here is what
    # imports them, so every process knows each before the first job or event reaches it.
    jobs: Sequence[Callable[..., Any]] = field(default_factory=tuple)
    listeners: Sequence[Callable[..., Any]] = field(default_factory=tuple)
    # Called once by the app factory with the app, its settings and its engine: for a module
    # that serves more than routes under the API prefix (a site of its own, say).
    install: Callable[..., None] | None = None
    # For the one module that keeps the accounts callers sign in as: the table and the columns
    # their standing is read from (`core.access`).
    caller: Accounts | None = None
    # For the one module whose route issues access tokens: its path below the module's own
    # (`/login`), which `/openapi.json` gives clients as the token URL (`core.openapi`).
    sign_in: str | None = None

    def check(self, module: str) -> None:
        """Refuse what core could not use, naming the field."""
        if self.router is not None and not isinstance(self.router, APIRouter):
            raise ManifestError(module, "router", f"is a {type(self.router).__name__}, not an APIRouter")
        if self.mounted_under and (
            not self.mounted_under.startswith("/") or self.mounted_under.endswith("/")
        ):
            raise ManifestError(
                module, "mounted_under", f"{self.mounted_under!r} must start with / and not end with one"
            )
        if self.settings is not None and not (
            isinstance(self.settings, type) and issubclass(self.settings, ModuleSettings)
        ):
            raise ManifestError(module, "settings", "is not a ModuleSettings class")
        for name, functions in (("jobs", self.jobs), ("listeners", self.listeners)):
            for function in functions:
                if not callable(function):
                    raise ManifestError(module, name, f"holds {function!r}, which is not a function")
        if self.install is not None and not callable(self.install):
            raise ManifestError(module, "install", "is not callable")
        if self.caller is not None and not isinstance(self.caller, Accounts):
            raise ManifestError(module, "caller", "is not a core.access.Accounts")
        if self.sign_in is not None and not self.sign_in.startswith("/"):
            raise ManifestError(module, "sign_in", f"{self.sign_in!r} must start with /")
