"""`AdminView`, what every table in /admin is: shown read-only unless a view says otherwise, with
buttons of its own (`row_action`), every change logged with the superuser who made it. (An
entity's rows, edited through its service, are `modules.admin.entities`.)

Every view shows a reference (`owner_id`, `order_id`) by the row it names, by that table's first
short string column: an owner by the account's email, read in one query per page.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import structlog
from sqladmin import ModelView, expose
from sqladmin.filters import ForeignKeyFilter
from sqladmin.flash import Flash
from sqladmin.formatters import BASE_FORMATTERS
from sqladmin.pagination import Pagination
from sqlalchemy import Column, ForeignKey, Select, String, Text, false, or_, select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.config import Settings
from core.crud import table_of
from core.errors import ServiceError

log = structlog.get_logger("modules.admin")

Method = TypeVar("Method", bound=Callable[..., str])


@dataclass(frozen=True)
class RowAction:
    name: str
    label: str
    offered: Callable[[Any], bool]
    run: Callable[..., str]


def row_id(pk: str) -> uuid.UUID:
    """A page's id as a row's; one that is no id at all is a missing page."""
    try:
        return uuid.UUID(pk)
    except ValueError:
        raise HTTPException(status_code=404) from None


def row_action(label: str, *, when: Callable[[Any], bool] = lambda _row: True) -> Callable[[Method], Method]:
    """Offer the decorated method as a button on a row's page, where `when(row)` holds. It is
    called in a thread as `method(self, session=..., row=..., admin=...)` (`admin`: the signed-in
    superuser) and returns what to tell them; a `ServiceError` it raises is shown as the refusal.
    Either way it is logged as `admin_action` with `admin_id`."""

    def mark(method: Method) -> Method:
        method.__dict__["_row_action"] = (label, when)
        return method

    return mark


# A string column this long or shorter names a row: a title, a code, an email address.
LABEL_MAX_LENGTH = 320


def label_column(table: Any) -> Column[Any] | None:
    """The column a row is shown by where another row refers to it: its first short string
    column (an account's email, an item's title); without one, the reference shows its id."""
    for column in table.columns:
        kind = getattr(column.type, "impl", column.type)  # SQLModel's AutoString wraps a String
        if isinstance(kind, String) and not isinstance(kind, Text) and (kind.length or 0) <= LABEL_MAX_LENGTH:
            found: Column[Any] = column
            return found
    return None


def prose(name: str, *, reference: bool = False) -> str:
    return (name.removesuffix("_id") if reference else name).replace("_", " ").capitalize()


class AdminView(ModelView):
    """A table in /admin, for superusers only (the site signs nobody else in)."""

    # Set on the copy of the view each app gets (modules.admin.site): that app's settings.
    settings: ClassVar[Settings]
    can_create = can_edit = can_delete = False
    # A whole table in one download is a leak waiting to happen; rows are read page by page.
    can_export = False
    page_size = 25
    column_default_sort: ClassVar[Any] = ("created_at", True)
    # Lists show times to the minute, a row's page to the microsecond (every time is UTC).
    column_type_formatters = {**BASE_FORMATTERS, datetime: lambda value: f"{value:%Y-%m-%d %H:%M} UTC"}
    column_type_formatters_detail = {**BASE_FORMATTERS, datetime: lambda value: value.isoformat(sep=" ")}

    def __init__(self) -> None:
        super().__init__()
        self.row_actions = {
            name: RowAction(name, label=marked[0], offered=marked[1], run=getattr(type(self), name))
            for name in dir(type(self))
            if (marked := getattr(getattr(type(self), name), "_row_action", None)) is not None
        }
        table = table_of(self.model)
        self.references = {key.parent.name: key for key in table.foreign_keys}
        # Column names as words (`is_completed`: "Is completed"; a reference by what it names:
        # `owner_id`: "Owner"), unless the view's `column_labels` says otherwise.
        self._column_labels = {
            **{
                column.name: prose(column.name, reference=column.name in self.references)
                for column in table.columns
            },
            **self._column_labels,
        }

    def offered_actions(self, row: Any) -> list[RowAction]:
        """The buttons a row's page shows (read by `templates/sqladmin/details.html`)."""
        return [action for action in self.row_actions.values() if action.offered(row)]

    def action_url(self, request: Request, action: RowAction, row: Any) -> str:
        return str(request.url_for(f"admin:view-{self.identity}-run_action", action=action.name, pk=row.id))

    @expose("/run/{action}/{pk}", methods=["POST"])
    async def run_action(self, request: Request) -> Response:
        action = self.row_actions.get(request.path_params["action"])
        if action is None:
            raise HTTPException(status_code=404)
        admin, pk = request.state.admin, request.path_params["pk"]

        def run() -> tuple[str, bool]:
            with self.session_maker() as session:
                row = self.get_row(session, pk)
                if not action.offered(row):
                    raise ServiceError(f"{action.label}: not for this row as it is now")
                message = action.run(self, session=session, row=row, admin=admin)
                return message, session.get(self.model, row_id(pk)) is not None

        try:
            message, kept = await run_in_threadpool(run)
        except ServiceError as exc:
            self.audit(request, action.name, pk, refused=exc.detail)
            Flash.error(request, exc.detail)
            kept = True
        else:
            self.audit(request, action.name, pk)
            Flash.success(request, message)
        # Back to the row's page; to the list if the action removed the row (a revoked invitation).
        if kept:
            return RedirectResponse(request.url_for("admin:details", identity=self.identity, pk=pk), 303)
        return RedirectResponse(request.url_for("admin:list", identity=self.identity), 303)

    def get_row(self, session: Session, pk: str) -> Any:
        """The row of the page's id, or a 404."""
        row = session.get(self.model, row_id(pk))
        if row is None:
            raise HTTPException(status_code=404)
        return row

    def audit(self, request: Request, action: str, target: object, *, refused: str | None = None) -> None:
        """One structured line per change an operator makes (or is refused), naming who made it."""
        fields = {"admin_id": str(request.state.admin.id), "view": self.identity, "action": action}
        if refused is None:
            log.info("admin_action", **fields, target_id=str(target))
        else:
            log.info("admin_action_refused", **fields, target_id=str(target), reason=refused)

    def search_query(self, stmt: Select[Any], term: str) -> Select[Any]:
        if "\x00" in term:  # PostgreSQL cannot compare text holding NUL: nothing matches
            return stmt.where(false())
        columns = [getattr(self.model, name) for name in self._search_fields]
        return stmt.where(or_(*(column.icontains(term, autoescape=True) for column in columns)))

    def sort_query(self, stmt: Select[Any], request: Request) -> Select[Any]:
        # Ties broken by id, so no row shows on two pages or none.
        return super().sort_query(stmt, request).order_by(self.pk_columns[0])

    async def _run_arbitrary_query(self, stmt: Any) -> Any:
        # sqladmin runs this one (the filters' choices) on the event loop with a sync session; a
        # query blocks, so it goes to the threadpool like every other.
        return await run_in_threadpool(self._run_arbitrary_query_sync, stmt)

    async def list(self, request: Request) -> Pagination:
        page = await super().list(request)
        request.state.labels = await run_in_threadpool(self._labels, page.rows, self.references)
        return page

    async def get_list_value(self, obj: Any, prop: str, request: Request | None = None) -> tuple[Any, Any]:
        value, shown = await super().get_list_value(obj, prop, request)
        if prop in self.references and request is not None:
            shown = request.state.labels.get((prop, value), shown)
        return value, shown

    async def get_detail_value(self, obj: Any, prop: str, request: Request | None = None) -> tuple[Any, Any]:
        value, shown = await super().get_detail_value(obj, prop, request)
        if prop in self.references and value is not None:
            labels = await run_in_threadpool(self._labels, [obj], {prop: self.references[prop]})
            shown = labels.get((prop, value), shown)
        return value, shown

    def _labels(self, rows: Iterable[Any], references: dict[str, ForeignKey]) -> dict[tuple[str, Any], str]:
        """What each reference of `rows` is shown by, keyed by column and id: a query per column."""
        found: dict[tuple[str, Any], str] = {}
        rows = list(rows)
        with self.session_maker() as session:
            for name, key in references.items():
                label = label_column(key.column.table)
                ids = {getattr(row, name) for row in rows} - {None}
                if label is None or not ids:
                    continue
                for row_id, text in session.execute(select(key.column, label).where(key.column.in_(ids))):
                    found[(name, row_id)] = text
        return found


class ReferenceFilter(ForeignKeyFilter):
    """A list filter by the row a reference names, each choice shown by its label (an owner by
    the account's email): the rows this table refers to, the first MAX_CHOICES by label. The
    label is found by `label_column`, so no module's model is named."""

    MAX_CHOICES = 100

    def __init__(self, column: str, title: str | None = None) -> None:
        super().__init__(column, column, title=title or prose(column, reference=True))
        self.column = column

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select[Any]], Any]
    ) -> list[tuple[str, str]]:
        (key,) = table_of(model).columns[self.column].foreign_keys
        shown = label_column(key.column.table)
        if shown is None:
            shown = key.column
        referred = select(getattr(model, self.column)).distinct()
        rows = await run_query(
            select(key.column, shown).where(key.column.in_(referred)).order_by(shown).limit(self.MAX_CHOICES)
        )
        return [("__all", "All"), *((str(row_id), str(text)) for row_id, text in rows)]

    async def get_filtered_query(self, query: Select[Any], value: Any, model: Any) -> Select[Any]:
        if value == "__all":
            return query
        try:
            wanted = uuid.UUID(str(value))
        except ValueError:
            return query.where(false())
        return query.where(getattr(model, self.column) == wanted)
