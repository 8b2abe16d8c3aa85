"""An entity's rows in /admin: created, edited and deleted through the module's service, each
form checked with the API's own schemas, so what the API refuses is refused here too; a conflict
or a reference to a missing row is an error on the form, never a 500. An entity's `admin.py`
(rendered by the entity template) subclasses the view below for whom its rows belong to:
`OwnedEntityView` for an account's rows, `SharedEntityView` for reference data.
"""

import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import ValidationError
from sqladmin.forms import ModelConverter, converts
from sqlalchemy.orm import ColumnProperty
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from wtforms import FloatField
from wtforms.fields.core import UnboundField

from core.crud import table_of
from core.errors import InvalidReferenceError, ServiceError
from modules.admin.views import AdminView


class FormError(Exception):
    """A save refused for what the form holds: shown above the form (400), never a 500."""


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

        row = await self._save_or_refuse(request, "create", save)
        self.audit(request, "create", row.id)
        return row

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        def save() -> Any:
            valid = self._validated(self.update_schema, data)
            with self.session_maker() as session:
                row = self.get_row(session, pk)
                return self._saved(lambda: self.update(session=session, row=row, data=valid))

        row = await self._save_or_refuse(request, "update", save, pk)
        self.audit(request, "update", pk)
        return row

    async def delete_model(self, request: Request, pk: Any) -> None:
        def remove() -> None:
            with self.session_maker() as session:
                self.delete(session=session, row=self.get_row(session, str(pk)))

        await run_in_threadpool(remove)
        self.audit(request, "delete", pk)

    async def _save_or_refuse(
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


class TeamEntityView(EntityView):
    """A team's rows (an entity made with owned=org): listed, edited and deleted here, made only by
    the team's members through the API, which knows whose they are."""

    can_create = False
