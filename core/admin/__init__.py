"""/admin: the operators' site, where superusers browse and edit every module's tables (sqladmin).

A module shows its tables by declaring their views in its `admin.py` and listing them as
`views = [...]`; discovery finds them, so core keeps no list. One module (auth) also hands over
`sign_in`: how a password is checked and an account reloaded.

    from core.admin import OwnedEntityView     # an entity's rows, saved through its service
    from core.admin import AdminView, row_action   # a table shown read-only, with buttons of its own
"""

from core.admin.auth import Operator, SignIn
from core.admin.entities import OwnedEntityView, SharedEntityView
from core.admin.site import add_admin
from core.admin.views import AdminView, ReferenceFilter, row_action

__all__ = [
    "AdminView",
    "Operator",
    "OwnedEntityView",
    "ReferenceFilter",
    "SharedEntityView",
    "SignIn",
    "add_admin",
    "row_action",
]
