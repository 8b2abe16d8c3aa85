"""What other modules may use of the admin module: the views their `admin.py` declares, and the
`AdminPages` that hands them over.

    from modules.admin.api import AdminPages, OwnedEntityView   # an entity's rows, saved through its service
    from modules.admin.api import AdminView, row_action   # a table shown read-only, with buttons of its own

    pages = AdminPages(views=[ItemAdmin])
"""

from modules.admin.auth import Operator, SignIn
from modules.admin.entities import OwnedEntityView, SharedEntityView, TeamEntityView
from modules.admin.pages import AdminPages
from modules.admin.views import AdminView, ReferenceFilter, row_action

__all__ = [
    "AdminPages",
    "AdminView",
    "Operator",
    "OwnedEntityView",
    "ReferenceFilter",
    "SharedEntityView",
    "SignIn",
    "TeamEntityView",
    "row_action",
]
