"""What happens to an account, for other modules to react to (`core.events`).

Each carries the account's id only: a listener that needs more asks `modules.users.api`.
"""

import uuid

from core.events import Event


class UserRegistered(Event):
    """An account was made: by its owner signing up, a superuser, or the first-superuser setup."""

    user_id: uuid.UUID


class UserEmailChanged(Event):
    """The account's address changed (its owner followed the link mailed to it, or a superuser set it)."""

    user_id: uuid.UUID


class UserPasswordChanged(Event):
    """The password changed (changed, reset or set by a superuser): every earlier sign-in is dead."""

    user_id: uuid.UUID


class UserDeactivated(Event):
    """The account can no longer sign in; its earlier sign-ins are dead."""

    user_id: uuid.UUID


class UserDeleted(Event):
    """The account is gone, with every row that belonged to it (the database's cascades)."""

    user_id: uuid.UUID
