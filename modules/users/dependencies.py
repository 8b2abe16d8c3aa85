"""The current user, as the account row: for the handlers that read or change the account itself.
A handler that only needs to know who calls takes `core.access.CurrentCaller`, which reads less."""

import uuid
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Select, bindparam, select

from core import access, crud
from core.db import SessionDep
from core.errors import DatabaseUnavailableError, ForbiddenError, NotFoundError, raises
from modules.users import service
from modules.users.models import User

SUPERUSERS_ONLY = "Superuser privileges required"
NO_USER = "User not found"


@cache
def _account() -> Select[Any]:
    table = crud.table_of(User)
    return select(*table.c, *access.standing(table)).where(table.c.id == bindparam("caller"))


@raises(DatabaseUnavailableError)
async def get_current_user(claims: access.AccessClaims, request: Request) -> User:
    """The account an access token names, in good standing: a deleted or deactivated account is
    refused at once, and so is a token issued before its last password change, reset, sign-out
    everywhere or deactivation. One statement reads the row and its standing together."""
    found = await access.read(request, _account(), {"caller": claims.user_id})
    access.check_standing(found, claims)
    assert found is not None
    return crud.detached(User, found)


CurrentUser = Annotated[User, Depends(get_current_user)]


@raises(ForbiddenError)
async def get_current_superuser(user: CurrentUser) -> User:
    # No I/O: on the event loop, without a trip to the threadpool.
    if not user.is_superuser:
        raise ForbiddenError(SUPERUSERS_ONLY)
    return user


CurrentSuperuser = Annotated[User, Depends(get_current_superuser)]


@raises(NotFoundError)
def get_user_by_id(user_id: uuid.UUID, session: SessionDep, _admin: CurrentSuperuser) -> User:
    user = service.get_user(session=session, user_id=user_id)
    if user is None:
        raise NotFoundError(NO_USER)
    return user


UserById = Annotated[User, Depends(get_user_by_id)]
