"""What core reads of an account to know whether its caller may act (`core.access.Accounts`),
and the scope of the rows an account owns (`core.crud.Scope`): an entity with an `owner_id`
reaches its owner's rows, and a superuser everyone's."""

import uuid

from sqlalchemy import Row

from core import crud
from core.access import Accounts
from modules.users.models import User

ACCOUNTS = Accounts(
    model=User, active="is_active", superuser="is_superuser", signed_out_at="password_changed_at"
)


def _owner_or_superuser(found: Row[object], superuser: bool, owner: uuid.UUID, method: str) -> bool:
    """A superuser reaches every owner's rows; anyone else only their own."""
    return superuser


OWNED = crud.Scope(column="owner_id", check=_owner_or_superuser)
