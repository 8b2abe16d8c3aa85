"""What a module shows in /admin: one typed `AdminPages`, as `pages` in its `admin.py`, found
through discovery and checked when the site is built (a wrong one stops the app with one line)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from core import discovery
from modules.admin.auth import SignIn
from modules.admin.views import AdminView


class PagesError(SystemExit):
    """A module's `admin.py` the site cannot use. A `SystemExit`: the process stops with one line."""

    def __init__(self, module: str, reason: str) -> None:
        super().__init__(f"modules/{module}/admin.py: {reason}")


@dataclass(frozen=True, kw_only=True)
class AdminPages:
    # The module's tables as /admin shows them, in its menu's order.
    views: Sequence[type[AdminView]] = field(default_factory=tuple)
    # How operators sign in: the module that owns the accounts' sign-ins hands it over, and one
    # module of the service must.
    sign_in: SignIn | None = None


def found_pages() -> dict[str, AdminPages]:
    """Every module's `pages`, checked, by module name (the modules discovery finds)."""
    found = {}
    for name, module in discovery.import_parts("admin").items():
        pages = vars(module).get("pages")
        if not isinstance(pages, AdminPages):
            raise PagesError(name, "pages is not a modules.admin.api.AdminPages")
        for view in pages.views:
            if not (isinstance(view, type) and issubclass(view, AdminView)):
                raise PagesError(name, f"pages.views holds {view!r}, which is not an AdminView")
        if pages.sign_in is not None and not isinstance(pages.sign_in, SignIn):
            raise PagesError(name, "pages.sign_in is not a modules.admin.api.SignIn")
        found[name] = pages
    return found
