"""The users module's own error codes (`core.errors.error_codes`), listed in `/openapi.json`'s
`ErrorCode` with core's, and in docs/reference/errors.md with the status and when of each."""

from enum import StrEnum

from core.errors import error_codes


@error_codes
class UsersErrorCode(StrEnum):
    WRONG_PASSWORD = "wrong_password"
    """400: the current password given to change it is not the account's."""
