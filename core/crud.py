"""The pieces of create, read, update, delete and list that every entity module shares.

They read the table itself (its columns, foreign keys and unique constraints), so a module
declares a column once and its list filters, reference checks and conflict answers follow.
"""

import inspect as signatures
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Insert,
    Select,
    UniqueConstraint,
    bindparam,
    func,
    inspect,
)
from sqlalchemy import Row as SARow
from sqlalchemy import Table as SATable
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, col
from sqlmodel.sql.expression import SelectOfScalar

from core import access
from core.db import Table
from core.errors import (
    ConflictError,
    DatabaseUnavailableError,
    InvalidReferenceError,
    NotFoundError,
    ServiceError,
    UnauthorizedError,
    raises,
    responses,
)
from core.naming import singular, snake_case
from core.schemas import ListQuery, PageParams

# The columns that give a row to someone (`Scope.column`): a reference from the row must stay with
# the same one, and a unique value is unique per scope. Each `Scope` made adds its own.
SCOPES: set[str] = set()
# The bound parameter a scope's join reads the value it is held to from (`Scope.join`).
SCOPE_VALUE = "scope"
# Query fields that shape the page; every other field of a list query is an equality filter.
PAGING = frozenset({"limit", "offset", "sort", "q"})

# What `save` may answer beside the route's own errors, for the `responses=` of create and update.
SAVE_RESPONSES = responses(ConflictError, InvalidReferenceError)
# PostgreSQL's SQLSTATE for a foreign key violation (a unique one is 23505), and SQLite's words.
FOREIGN_KEY_VIOLATION, SQLITE_FOREIGN_KEY = "23503", "FOREIGN KEY constraint failed"

Row = TypeVar("Row", bound=Table)


def table_of(model: type[SQLModel]) -> SATable:
    table = inspect(model).local_table
    assert isinstance(table, SATable)
    return table


def detached(model: type[Row], row: SARow[Any]) -> Row:
    """An instance of `model` from a row a statement of our own read, as if a session had loaded
    it and let it go: `session.add` it to change it. Microseconds, against the tenths of a
    millisecond of an ORM load."""
    configure_mappers()  # once; then a no-op
    instance: Row = inspect(model).class_manager.new_instance()
    values = row._mapping
    instance.__dict__.update({column.key: values[column.key] for column in table_of(model).c})
    make_transient_to_detached(instance)
    return instance


def _row_id(model: type[SQLModel]) -> str:
    """The path parameter that names one row: `item_id`, `person_id`."""
    return f"{snake_case(model.__name__)}_id"


def _not_found(model: type[SQLModel]) -> str:
    return f"{_prose(snake_case(model.__name__)).capitalize()} not found"  # the class: `people` is a person


@dataclass(frozen=True)
class Scope:
    """Whose rows a route reaches: the column that gives a row to someone, and how the caller is
    held to one value of it. The module that owns the concept makes the scope (the accounts'
    module, the rows of an owner; a teams module, the rows of a team) and an entity loads its
    rows with it (`scoped`, `scoped_list`), in the statement that reads the caller's standing."""

    # The row's column that says whose it is: `owner_id`.
    column: str
    # Whether the caller reaches every row (True: a superuser, say) or only those whose `column`
    # holds the value: given the statement's row (the caller's standing and `join`'s columns),
    # whether the caller is a superuser, the value and the request's method. It raises the
    # scope's own refusals (`errors`).
    check: Callable[[SARow[Any], bool, uuid.UUID, str], bool]
    # The path parameter naming the value (`team_id`); None: the caller's own id.
    parameter: str | None = None
    # What the statement joins to the accounts table for `check` to read, and the columns that
    # adds, given the accounts table; the value is the bound parameter SCOPE_VALUE. Lookups by
    # key only: the statement stays one index read per table.
    join: Callable[[SATable], tuple[FromClause, list[ColumnElement[Any]]]] | None = None
    errors: tuple[type[ServiceError], ...] = ()

    def __post_init__(self) -> None:
        SCOPES.add(self.column)


def _joined(scope: Scope | None) -> tuple[SATable, FromClause, list[ColumnElement[Any]]]:
    accounts = access.accounts()
    if scope is None or scope.join is None:
        return accounts, accounts, []
    selectable, columns = scope.join(accounts)
    return accounts, selectable, columns


@cache
def _with_caller(model: type[SQLModel], scope: Scope | None) -> Select[Any]:
    """The row named by :row_id (or none: an outer join) beside the standing of the :caller and
    what the scope joins; the accounts' own rows are the caller's account itself."""
    table = table_of(model)
    accounts, selectable, columns = _joined(scope)
    if table is not accounts:
        selectable = selectable.outerjoin(table, table.c.id == bindparam("row_id"))
    return (
        select_columns(*table.c, *access.standing(accounts), *columns)
        .select_from(selectable)
        .where(accounts.c.id == bindparam("caller"))
    )


@cache
def _caller_alone(scope: Scope | None) -> Select[Any]:
    """The :caller's standing (`access.standing_of_caller`) and what the scope joins, without a row."""
    _accounts, selectable, columns = _joined(scope)
    return access.standing_of_caller().add_columns(*columns).select_from(selectable)


def _depends(load: Any, parameters: dict[str, Any], *errors: type[ServiceError]) -> Any:
    """`Depends(load)`, FastAPI reading each of `parameters` (name: annotation) beside the
    caller's claims and the request; `errors` and a database outage are what it may answer."""
    keyword = signatures.Parameter.KEYWORD_ONLY
    load.__signature__ = signatures.Signature(
        [
            *(
                signatures.Parameter(name, keyword, annotation=annotation)
                for name, annotation in parameters.items()
            ),
            signatures.Parameter("claims", keyword, annotation=access.AccessClaims),
            signatures.Parameter("request", keyword, annotation=Request),
        ]
    )
    return Depends(raises(*errors, DatabaseUnavailableError)(load))


def _value(scope: Scope | None, claims: access.Claims, path: dict[str, uuid.UUID]) -> uuid.UUID:
    """The value of the scope's column the caller is held to."""
    return claims.user_id if scope is None or scope.parameter is None else path[scope.parameter]


def _held_to(
    scope: Scope | None, found: SARow[Any] | None, claims: access.Claims, value: uuid.UUID, method: str
) -> dict[str, uuid.UUID]:
    """The column and value the caller's rows must hold (none: every row): 401 unless the caller
    is in good standing, then what the scope's check answers."""
    superuser = access.check_standing(found, claims)
    assert found is not None
    if scope is None or scope.check(found, superuser, value, method):
        return {}
    return {scope.column: value}


def _one(model: type[Row], scope: Scope | None, *, account: bool = False) -> Any:
    """The one loader of a row with its caller: `Depends` of the row the path names (the caller's
    account itself when `account`), read in one statement with the caller's standing and what
    the scope joins. A row out of the caller's reach is 404, as a missing one is."""
    missing, name = _not_found(model), _row_id(model)
    # Built on the first request (the accounts' module is known by then), then reused as it is.
    statement = cache(partial(_with_caller, model, scope))

    async def load(request: Request, claims: access.Claims, **path: uuid.UUID) -> Row:
        value = _value(scope, claims, path)
        parameters = {"row_id": path.get(name), "caller": claims.user_id}
        if scope is not None and scope.join is not None:
            parameters[SCOPE_VALUE] = value
        found = await access.read(request, statement(), parameters)
        held = _held_to(scope, found, claims, value, request.method)
        assert found is not None
        if found.id is None or (held and any(found._mapping[column] != held[column] for column in held)):
            raise NotFoundError(missing)
        return detached(model, found)

    parameters: dict[str, Any] = {} if account else {name: uuid.UUID}
    if scope is not None and scope.parameter is not None:
        parameters[scope.parameter] = uuid.UUID
    errors = () if account else (NotFoundError,)
    return _depends(load, parameters, *errors, *(scope.errors if scope else ()))


def scoped(model: type[Row], scope: Scope) -> Any:
    """`OwnedItem = Annotated[Item, crud.scoped(Item, OWNED)]`: the row the path names
    (`/{item_id}`) if the scope lets the caller reach it. One out of reach is 404, as a missing
    one is, so nobody learns that it exists. One statement reads it with the caller's standing
    (a caller signed out since the token is 401) and what the scope reads, in one read
    (`access.read`)."""
    return _one(model, scope)


def by_id(model: type[Row]) -> Any:
    """`TagById = Annotated[Tag, crud.by_id(Tag)]`: the row the path names, for any caller in good
    standing (reference data, which every signed-in user reads); 404 when there is none. One
    statement."""
    return _one(model, None)


def caller_row(model: type[Row]) -> Any:
    """`Annotated[Account, crud.caller_row(Account)]`: the caller's own account (`model` is the
    accounts' table), in good standing. One statement reads the row and its standing."""
    return _one(model, None, account=True)


@dataclass(frozen=True)
class Listed:
    """One page of rows (read-only records with the model's attributes), how many match in all,
    and the query that asked: what `scoped_list` and `listed` load for a list route."""

    rows: list[Any]
    total: int
    query: ListQuery


def scoped_list(model: type[Row], query: type[ListQuery], scope: Scope, *, search: Any = None) -> Any:
    """`ItemList = Annotated[crud.Listed, crud.scoped_list(Item, ItemQuery, OWNED, search=Item.title)]`:
    a page of the rows the scope lets the caller reach, and how many match (`_page`). The
    caller's standing, the count and the page are three statements on one connection, in one
    read (`access.on_connection`)."""
    return _list_dependency(model, query, search, scope)


def listed(model: type[Row], query: type[ListQuery], *, search: Any = None) -> Any:
    """`TagList = Annotated[crud.Listed, crud.listed(Tag, TagQuery, search=Tag.name)]`: a page of
    every row, for any caller in good standing (reference data), read as `scoped_list` reads."""
    return _list_dependency(model, query, search, None)


def _list_dependency(model: type[Row], query_type: type[ListQuery], search: Any, scope: Scope | None) -> Any:
    async def load(request: Request, claims: access.Claims, query: ListQuery, **path: uuid.UUID) -> Listed:
        value = _value(scope, claims, path)

        def work(connection: Connection) -> Listed:
            parameters = {"caller": claims.user_id, SCOPE_VALUE: value}
            found = connection.execute(_caller_alone(scope), parameters).first()
            held = _held_to(scope, found, claims, value, request.method)
            rows, total = _page(connection, model, query, scope=held, search=search)
            return Listed(rows, total, query)

        return await access.on_connection(request, work)

    parameters: dict[str, Any] = {}
    if scope is not None and scope.parameter is not None:
        parameters[scope.parameter] = uuid.UUID
    parameters["query"] = Annotated[query_type, Query()]
    return _depends(load, parameters, UnauthorizedError, *(scope.errors if scope else ()))


def _page(
    connection: Connection, model: type[Row], query: ListQuery, *, scope: dict[str, uuid.UUID], search: Any
) -> tuple[list[Any], int]:
    """One page of rows and how many match in all.

    Every field of `query` beside the paging ones is an equality filter on the column of the
    same name, left out when None; `q` finds text in the `search` column, ignoring case;
    `scope` keeps the rows of one owner (column: value). Ties in the sort are broken by id, so
    pages never overlap.

    The rows are read-only records with the model's attributes, read by Core statements: a page
    that is only shown needs no instances (an ORM load costs ten times more).
    """
    values: dict[str, Any] = {f"scope_{column}": value for column, value in scope.items()}
    filters = []
    for name, value in query:
        if name not in PAGING and value is not None:
            filters.append(name)
            values[f"filter_{name}"] = value
    text = getattr(query, "q", None)
    if text:
        values["q"] = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    rows, count = _page_statements(
        model,
        tuple(scope),
        tuple(filters),
        search if text else None,
        query.sort.column,
        query.sort.descending,
    )
    total: int = connection.execute(count, values).scalar_one()
    page = connection.execute(rows, {**values, "limit": query.limit, "offset": query.offset})
    return list(page), total


@lru_cache(maxsize=1024)
def _page_statements(
    model: type[Row],
    scope: tuple[str, ...],
    filters: tuple[str, ...],
    search: Any,
    sort: str,
    descending: bool,
) -> tuple[Select[Any], Select[Any]]:
    """The page's statement and the count's for one shape of list query, built once: building
    them costs more than SQLite spends running them. The values are bound parameters."""
    table = table_of(model)
    where = [table.c[column] == bindparam(f"scope_{column}") for column in scope]
    where += [table.c[name] == bindparam(f"filter_{name}") for name in filters]
    if search is not None:
        where.append(col(search).icontains(bindparam("q"), escape="/"))
    column = table.c[sort]  # a column of the table, never another attribute
    order = column.desc() if descending else column.asc()
    rows = select_columns(*table.c).where(*where).order_by(order, table.c.id)
    rows = rows.limit(bindparam("limit")).offset(bindparam("offset"))
    count = select_columns(func.count()).select_from(table).where(*where)
    return rows, count


def paged(
    run: Session | Connection, rows: Select[*tuple[Any, ...]], *, count: Select[Any], params: PageParams
) -> tuple[list[Any], int]:
    """The page of `rows` that `params` asks for, and `count`'s answer: how many there are in all.

    `rows` must be in a total order (ties broken by id), or pages overlap. A select of one model
    (SQLModel's `select(User)`) gives its instances, as `Session.exec` would; any other select,
    read-only records."""
    total: int = run.execute(count).scalar_one()
    found = run.execute(rows.offset(params.offset).limit(params.limit))
    return list(found.scalars() if isinstance(rows, SelectOfScalar) else found), total


def changes(model: type[Row], update: SQLModel) -> dict[str, Any]:
    """The fields an update sent. A null for a column that cannot be null means "leave it"."""
    columns = table_of(model).c
    return {
        name: value
        for name, value in update.model_dump(exclude_unset=True).items()
        if value is not None or columns[name].nullable
    }


def save(session: Session, row: Row) -> Row:
    """Commit a new or changed row, after checking what it refers to.

    A reference to a row that does not exist, or that belongs to another owner than this
    row's (its SCOPES), is refused (422) in the same words either way. A duplicate
    of a unique column is the client's conflict (409), never a server error, and so is a row
    whose parent another request deleted after the check (409, naming the parent). A changed row
    that another request deleted meanwhile is 404, as it would have been a moment later.

    A new row is written by one Core INSERT of the values it has, not by the session's flush:
    the same statement at a tenth of the cost. It comes back detached, as a loaded row would.
    """
    check_references(session, row)
    new = inspect(row).transient
    if new:
        table = table_of(type(row))
        values = {column.key: getattr(row, column.key) for column in table.c}
    else:
        session.add(row)
    try:
        if new:
            session.connection().execute(_insert(table), values)
        session.commit()  # what else the session holds (a published event's deliveries) with it
    except IntegrityError as exc:
        session.rollback()
        if _is_broken_reference(exc):
            raise ConflictError(_missing_parent(session, row)) from exc
        raise ConflictError(conflict_detail(type(row))) from exc
    except StaleDataError as exc:  # the UPDATE found no row: deleted since it was read
        session.rollback()
        raise NotFoundError(_not_found(type(row))) from exc
    if new:
        make_transient_to_detached(row)
    return row


@cache
def _insert(table: SATable) -> Insert:
    """The table's INSERT, built once: the row's values are its parameters. Built with the values
    in it, each write paid again for coercing them and for the statement's cache key."""
    return table.insert()


def delete(session: Session, row: Table) -> None:
    """Delete the row and commit what else the session holds (a published event's deliveries)
    with it. A row that another request deleted since it was read is 404, not a second success:
    of two deletes at once, one is answered 204 and the other 404."""
    table = table_of(type(row))
    deleted = session.connection().execute(table.delete().where(table.c.id == row.id)).rowcount
    if deleted != 1:
        session.rollback()
        raise NotFoundError(_not_found(type(row)))
    session.commit()


def _is_broken_reference(exc: IntegrityError) -> bool:
    """Whether the database refused the row for a foreign key (a row it refers to is gone), as
    opposed to a duplicate of a unique value."""
    return getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION or SQLITE_FOREIGN_KEY in str(exc.orig)


def _missing_parent(session: Session, row: Table) -> str:
    """`The item this note refers to (item_id) no longer exists`: the
    first of the row's references, its SCOPES included, whose row is gone. SQLite does not say
    which key failed, so each is looked up (after the rollback: what is committed now)."""
    table = table_of(type(row))
    entity = _prose(singular(table.name))
    for key in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
        value = getattr(row, key.parent.name)
        if value is None:
            continue
        if session.execute(select_columns(key.column).where(key.column == value)).first() is None:
            parent = _prose(singular(key.column.table.name))
            return f"The {parent} this {entity} refers to ({key.parent.name}) no longer exists"
    return f"A row this {entity} refers to no longer exists"


def check_references(session: Session, row: Table) -> None:
    """Every foreign key the row sets (beside its SCOPES) must name a row that exists and, when
    that table is scoped by the same column, belongs to the same owner."""
    state = inspect(row)
    scope = {column: value for column in SCOPES if (value := getattr(row, column, None)) is not None}
    for key in sorted(table_of(type(row)).foreign_keys, key=lambda fk: fk.parent.name):
        name = key.parent.name
        value = getattr(row, name)
        if name in SCOPES or value is None:
            continue
        if state.persistent and not state.attrs[name].history.has_changes():
            continue  # unchanged since it was checked
        target = key.column.table
        found = select_columns(key.column).where(key.column == value)
        found = found.where(
            *(target.c[column] == value for column, value in scope.items() if column in target.c)
        )
        with session.no_autoflush:  # the row itself is not written before it passes
            missing = session.execute(found).first() is None
        if missing:
            raise InvalidReferenceError(name, value, f"{_prose(singular(target.name))} not found")


def conflict_detail(model: type[SQLModel]) -> str:
    """`Order line with the same sku already exists`, from the table's unique columns."""
    table = table_of(model)
    # A unique column per owner is constrained together with its scope: name the column alone.
    unique = [
        column.name
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
        for column in constraint.columns
        if column.name not in SCOPES
    ]
    unique += [column.name for column in table.c if column.unique]
    fields = " or ".join(dict.fromkeys(unique)) or "values"
    return f"{_prose(singular(table.name)).capitalize()} with the same {fields} already exists"


def _prose(name: str) -> str:
    return name.replace("_", " ")
