"""Who is calling, for the price of one statement.

The access token is decoded on the event loop: a signature check is microseconds, not worth a
trip to the threadpool. Whether its account may still act (it exists, it is active, and it has
not signed out everywhere or changed its password since the token was issued) is read from the
accounts table in the same statement that loads what the request is about: `crud` joins it to
the row, `CurrentCaller` reads it alone (`read`: on the loop too, on a SQLite file). So a
deactivation, a password change or a sign-out everywhere stops the account's tokens on their
very next request, at no cost of its own.

core names no accounts table: the module that keeps the accounts hands it in, as an `Accounts`
in its manifest (`Manifest(caller=...)`), and core reads the columns that says.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection, Engine, Row, Select, bindparam, inspect, select
from sqlalchemy import Table as SATable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool

from core.config import SettingsDep
from core.errors import DatabaseUnavailableError, UnauthorizedError, raises
from core.security import InvalidTokenError, TokenType, decode_token

# The accounts' columns a caller's standing is read from, as the statements label them.
ACTIVE, SUPERUSER, SIGNED_OUT_AT = "caller_is_active", "caller_is_superuser", "caller_signed_out_at"
INVALID_TOKEN = "Invalid or expired token"

T = TypeVar("T")

# auto_error=False: a missing token gets the same 401 shape as a bad one. The route that issues
# tokens is a module's: `/openapi.json` names the one a manifest declares (`Manifest.sign_in`,
# `core.openapi`), in place of this placeholder.
SIGN_IN_PLACEHOLDER = "sign-in"
bearer = OAuth2PasswordBearer(tokenUrl=SIGN_IN_PLACEHOLDER, auto_error=False)


@dataclass(frozen=True)
class Accounts:
    """The table whose rows are the callers, and the columns their standing is read from: what
    the module that keeps the accounts hands core (`Manifest(caller=Accounts(...))`)."""

    model: type[Any]  # a table model with an `id` primary key
    active: str  # false: the account may not act
    superuser: str  # true: the account reaches every row
    signed_out_at: str  # a token issued before this moment is dead

    def table(self) -> SATable:
        table = inspect(self.model).local_table
        assert isinstance(table, SATable)
        return table


@dataclass(frozen=True)
class Claims:
    """A verified access token: whose, and when it was issued."""

    user_id: uuid.UUID
    issued_at: float
    all: dict[str, Any] = field(repr=False)  # every claim, for what else a module reads (`sid`)


@raises(UnauthorizedError)
async def access_claims(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(bearer)]
) -> Claims:
    """The access token's claims, signature, type and expiry checked; the account is not read yet."""
    if token is None:
        raise UnauthorizedError("Not authenticated")
    try:
        claims = decode_token(token, secret=settings.secret_key, token_type=TokenType.ACCESS)
        found = Claims(uuid.UUID(claims["sub"]), float(claims["iat"]), claims)
    except (InvalidTokenError, ValueError, TypeError) as exc:
        raise UnauthorizedError(INVALID_TOKEN) from exc
    request.state.user_id = str(found.user_id)  # for the access log
    return found


AccessClaims = Annotated[Claims, Depends(access_claims)]


@cache
def the_accounts() -> Accounts:
    """What the module keeping the accounts declared (its manifest's `caller`)."""
    from core import discovery  # discovery reads the manifests, which name this module's types

    return discovery.caller()


def accounts() -> SATable:
    return the_accounts().table()


def standing(table: SATable) -> list[Any]:
    """The accounts' columns a caller's standing is read from, labelled apart from a row's own."""
    declared = the_accounts()
    return [
        table.c[declared.active].label(ACTIVE),
        table.c[declared.superuser].label(SUPERUSER),
        table.c[declared.signed_out_at].label(SIGNED_OUT_AT),
    ]


def check_standing(row: Row[Any] | None, claims: Claims) -> bool:
    """Whether the caller is a superuser, from a row holding `standing`'s columns; 401 when the
    account is gone, inactive, or signed out after the token was issued."""
    if row is None:
        raise UnauthorizedError(INVALID_TOKEN)
    values = row._mapping
    if not values[ACTIVE] or claims.issued_at < values[SIGNED_OUT_AT].timestamp():
        raise UnauthorizedError(INVALID_TOKEN)
    return bool(values[SUPERUSER])


async def on_connection(request: Request, work: Callable[[Connection], T]) -> T:
    """Run a read (`work`, given a pooled connection of its own) for the request: on the event
    loop where the database is a SQLite file (`core.db.reads_on_loop`), else in one trip to the
    threadpool. On the loop it takes a connection only when the pool has one idle: waiting there
    for one would stall every request."""
    engine: Engine = request.app.state.engine
    pool = engine.pool
    if request.app.state.reads_on_loop and isinstance(pool, QueuePool) and pool.checkedin():
        return with_connection(engine, work)
    return await run_in_threadpool(with_connection, engine, work)


def with_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run a read on a pooled connection and hand the connection back. A connection that died
    with a restarted database is dropped by the pool, and the read runs once more on a new one:
    a read has nothing to undo."""
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                return work(connection)
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt == 2:
                raise
    raise AssertionError("not reached")


async def read(request: Request, statement: Select[Any], parameters: dict[str, Any]) -> Row[Any] | None:
    """The first row of one statement, read as `on_connection` reads."""
    return await on_connection(request, lambda connection: connection.execute(statement, parameters).first())


@cache
def standing_of_caller() -> Select[Any]:
    """The :caller's standing alone."""
    table = accounts()
    return select(*standing(table)).where(table.c.id == bindparam("caller"))


@dataclass(frozen=True)
class Caller:
    """A signed-in account in good standing: who, and whether it is a superuser."""

    id: uuid.UUID
    is_superuser: bool


@raises(UnauthorizedError, DatabaseUnavailableError)
async def current_caller(claims: AccessClaims, request: Request) -> Caller:
    """The caller, their standing read in one statement (`read`)."""
    superuser = check_standing(await read(request, standing_of_caller(), {"caller": claims.user_id}), claims)
    return Caller(claims.user_id, superuser)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
