"""The users module's own error codes (`core.errors.error_codes`): the README lists when each is
answered, and `/openapi.json`'s `ErrorCode` lists them with core's."""

from enum import StrEnum

from core.errors import error_codes


@error_codes
class UsersErrorCode(StrEnum):
    WRONG_PASSWORD = "wrong_password"
