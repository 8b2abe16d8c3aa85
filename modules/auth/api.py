"""What other modules (and the tests' fixtures) may use of the auth module; the rest of the folder
is its own.

`start_session`: a login for an account the caller has already vouched for, without its password,
giving the token pair a client would have after signing in. Its settings (`AuthSettings`: the
login rate limit a sign-in elsewhere spends too, say) and the count of refused sign-ins
(`login_failed`), for a module that signs people in by other means (an operators' site) and
must be counted and limited as the API's login is.
"""

from modules.auth.metrics import login_failed
from modules.auth.service import start_session
from modules.auth.settings import AuthSettings

__all__ = ["AuthSettings", "login_failed", "start_session"]
