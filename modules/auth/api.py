"""What other modules (and the tests' fixtures) may use of the auth module; the rest of the folder
is its own.

`start_session`: a login for an account the caller has already vouched for, without its password,
giving the token pair a client would have after signing in.
"""

from modules.auth.service import start_session

__all__ = ["start_session"]
