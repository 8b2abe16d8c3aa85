"""What other modules may use of the admin module: the views their `admin.py` declares, and the
`AdminPages` that hands them over.

    from modules.admin.api import AdminPages, OwnedEntityView   # an entity's rows, saved through its service
    from modules.admin.api import AdminView, row_action   # a table shown read-only, with buttons of its own

    pages = AdminPages(views=[ItemAdmin])
"""

from modules.admin.auth import Operator, SignIn
from modules.admin.entities import OwnedEntityView, SharedEntityView
from modules.admin.pages import AdminPages
from modules.admin.views import AdminView, ReferenceFilter, row_action

# <organizations>  (hooks/generate.py drops these blocks from a service generated with tenancy=user)
# isort: split
from modules.admin.entities import OrganizationEntityView

# </organizations>

__all__ = [
    "AdminPages",
    "AdminView",
    "Operator",
    # <organizations>
    "OrganizationEntityView",
    # </organizations>
    "OwnedEntityView",
    "ReferenceFilter",
    "SharedEntityView",
    "SignIn",
    "row_action",
]
