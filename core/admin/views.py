"""The views /admin is made of. `AdminView` shows a table (read-only unless told otherwise) with
buttons of its own (`row_action`); `OwnedEntityView` and `SharedEntityView` also create, edit
and delete an entity's rows through its service, each form checked with the API's own schemas.

Every view shows a reference (`owner_id`, `order_id`) by the row it names: its first string
column, so an owner by the account's email, read in one query per page.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import structlog
from pydantic import ValidationError
from sqladmin import ModelView, expose
from sqladmin.filters import ForeignKeyFilter
from sqladmin.flash import Flash
from sqladmin.formatters import BASE_FORMATTERS
from sqladmin.forms import ModelConverter, converts
from sqladmin.pagination import Pagination
from sqlalchemy import Column, ForeignKey, Select, String, Text, false, or_, select
from sqlalchemy.orm import ColumnProperty
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import FloatField
from wtforms.fields.core import UnboundField

from core.config import Settings
from core.crud import table_of
from core.errors import InvalidReferenceError, ServiceError

log = structlog.get_logger("core.admin")

Method = TypeVar("Method", bound=Callable[..., str])


class FormError(Exception):
    """A save refused for what the form holds: shown above the form (400), never a 500."""


@dataclass(frozen=True)
class RowAction:
    name: str
    label: str
    offered: Callable[[Any], bool]
    run: Callable[..., str]


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

    # Set on the copy of the view each app gets (core.admin.site): that app's settings.
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

        def run() -> str:
            with self.session_maker() as session:
                row = self.get_row(session, pk)
                if not action.offered(row):
                    raise ServiceError(f"{action.label}: not for this row as it is now")
                return action.run(self, session=session, row=row, admin=admin)

        try:
            message = await run_in_threadpool(run)
        except ServiceError as exc:
            self.audit(request, action.name, pk, refused=exc.detail)
            Flash.error(request, exc.detail)
        else:
            self.audit(request, action.name, pk)
            Flash.success(request, message)
        return RedirectResponse(request.url_for("admin:details", identity=self.identity, pk=pk), 303)

    def get_row(self, session: Session, pk: str) -> Any:
        """The row of the page's id, or a 404."""
        try:
            row = session.get(self.model, uuid.UUID(pk))
        except ValueError:
            row = None
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


class FormConverter(ModelConverter):
    """sqladmin's form fields for columns, and one for floats: sqladmin finds a column's field by
    its type's class names, and SQLAlchemy 2.1's Float is no longer a Numeric."""

    @converts("Float")  # type: ignore[untyped-decorator]  # sqladmin marks it no_type_check
    def conv_float(self, model: type, prop: ColumnProperty[Any], kwargs: dict[str, Any]) -> UnboundField:
        return FloatField(**kwargs)


class EntityView(AdminView):
    """An entity's rows: edited and deleted through the module's service, each form checked with
    the API's schemas (`create_schema`, `update_schema`), so the API's rules hold here too."""

    can_create = can_edit = can_delete = True
    icon = "fa-solid fa-table-list"
    # Forms list references (`order_id`) too: sqladmin leaves foreign keys out unless told.
    form_include_pk = True
    form_converter = FormConverter
    create_schema: ClassVar[type[SQLModel]]
    update_schema: ClassVar[type[SQLModel]]

    def update(self, *, session: Session, row: Any, data: Any) -> Any:
        """Save `data` (an `update_schema`) onto `row`: the module's service does it."""
        raise NotImplementedError

    def delete(self, *, session: Session, row: Any) -> None:
        raise NotImplementedError

    def insert(self, session: Session, data: Any, admin: Any) -> Any:
        raise NotImplementedError

    async def insert_model(self, request: Request, data: dict[str, Any]) -> Any:
        admin = request.state.admin

        def save() -> Any:
            valid = self._validated(self.create_schema, data)
            with self.session_maker() as session:
                return self._saved(lambda: self.insert(session, valid, admin))

        row = await self._refusals_shown(request, "create", save)
        self.audit(request, "create", row.id)
        return row

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        def save() -> Any:
            valid = self._validated(self.update_schema, data)
            with self.session_maker() as session:
                row = self.get_row(session, pk)
                return self._saved(lambda: self.update(session=session, row=row, data=valid))

        row = await self._refusals_shown(request, "update", save, pk)
        self.audit(request, "update", pk)
        return row

    async def delete_model(self, request: Request, pk: Any) -> None:
        def remove() -> None:
            with self.session_maker() as session:
                self.delete(session=session, row=self.get_row(session, str(pk)))

        await run_in_threadpool(remove)
        self.audit(request, "delete", pk)

    async def _refusals_shown(
        self, request: Request, action: str, save: Callable[[], Any], pk: str = ""
    ) -> Any:
        try:
            return await run_in_threadpool(save)
        except FormError as exc:
            self.audit(request, action, pk or "new", refused=str(exc))
            raise

    def _validated(self, schema: type[SQLModel], data: dict[str, Any]) -> SQLModel:
        """The form's values as the API would take them: an empty optional field is left unset
        (None), and every other rule is the schema's."""
        columns = table_of(self.model).columns
        values = {
            name: None if value == "" and columns[name].nullable else value
            for name, value in data.items()
            if name in schema.model_fields
        }
        try:
            return schema.model_validate(values)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False)
            ]
            raise FormError("; ".join(problems)) from None

    @staticmethod
    def _saved(save: Callable[[], Any]) -> Any:
        """Run the service's save; a conflict or a bad reference is the form's error."""
        try:
            return save()
        except InvalidReferenceError as exc:
            raise FormError(f"{exc.field}: {exc.detail}") from None
        except ServiceError as exc:
            raise FormError(exc.detail) from None


class OwnedEntityView(EntityView):
    """An owned entity's rows. A row made here belongs to the superuser who makes it, as one made
    through the API belongs to its caller."""

    def create(self, *, session: Session, owner_id: uuid.UUID, data: Any) -> Any:
        """Save a new row from `data` (a `create_schema`): the module's service does it."""
        raise NotImplementedError

    def insert(self, session: Session, data: Any, admin: Any) -> Any:
        return self.create(session=session, owner_id=admin.id, data=data)


class SharedEntityView(EntityView):
    """Reference data (an entity made with owned=no): rows of nobody's, which superusers write."""

    def create(self, *, session: Session, data: Any) -> Any:
        """Save a new row from `data` (a `create_schema`): the module's service does it."""
        raise NotImplementedError

    def insert(self, session: Session, data: Any, admin: Any) -> Any:
        return self.create(session=session, data=data)
