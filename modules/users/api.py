"""What other modules may use of the users module; the rest of the folder is its own.

The caller (`CurrentUser`, `CurrentSuperuser`), the scope of an owner's rows (`OWNED`: an
entity with an `owner_id` loads its rows with it, `core.crud.scoped`), the account as other
modules read it, the rules of an address and a password, the operations sign-up, sign-in and
the mailed links need, and `UserCreate`, an account as a superuser makes one (with its privilege
fields), for code that vouches for the account itself: a first superuser, the tests' fixtures.
Its events (`events.py`) say what happened to an account; a module that must react to one
listens to it rather than being called from here.
"""

from modules.users.dependencies import CurrentSuperuser, CurrentUser
from modules.users.models import User
from modules.users.schemas import Email, NewPassword, UserCreate, UserRead, UserRegister
from modules.users.service import (
    create_user,
    get_user,
    get_user_by_email,
    reset_password,
    sign_out_everywhere,
)
from modules.users.standing import OWNED
from modules.users.verification import confirm_email, request_verification, user_from_link

__all__ = [
    "OWNED",
    "CurrentSuperuser",
    "CurrentUser",
    "Email",
    "NewPassword",
    "User",
    "UserCreate",
    "UserRead",
    "UserRegister",
    "confirm_email",
    "create_user",
    "get_user",
    "get_user_by_email",
    "request_verification",
    "reset_password",
    "sign_out_everywhere",
    "user_from_link",
]
