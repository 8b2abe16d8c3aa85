"""Schema building blocks shared by every module."""

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, GetJsonSchemaHandler, field_validator
from pydantic import Field as PydanticField
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlmodel import Field, SQLModel

T = TypeVar("T")


# The deepest page a list reaches: every integer a client sends is bounded, so none overflows
# the database's (SQLite's and PostgreSQL's OFFSET are 64-bit).
MAX_OFFSET = 1_000_000


def _a_json_number(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise ValueError("Input should be a valid integer")
    return value


# An integer as JSON Schema means one: 3 and 3.0, never "3" or true (plain `int` takes both).
JsonInt = Annotated[int, BeforeValidator(_a_json_number)]


# NUL, which PostgreSQL text cannot hold, and lone surrogates (half of a UTF-16 pair, which JSON's
# `\ud800` escape can still carry), which no driver can encode: refused where text comes in, with a
# 422, rather than met by the database with a 500.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


# Control characters (Unicode's Cc: tab, CR, LF, ESC...) and the line and paragraph separators
# (Zl, Zp: U+2028, U+2029), as Python's and ECMA-262's regular expressions both read them. Text
# shown on one line (a name in a mail's subject, in a list) refuses them, so what a user writes
# there cannot start a line of its own.
_LINE_BREAKS = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
LINE_BREAKING = re.compile(f"[{_LINE_BREAKS}]+")


def _one_line(value: str) -> str:
    if LINE_BREAKING.search(value):
        raise ValueError("Text must be one line: no control characters or line separators")
    return value


# `name: OneLine = Field(max_length=200)`: text shown on one line. The schema states the rule
# (a `pattern`), so a generated client or a fuzzer knows it; the validator says it in words.
OneLine = Annotated[
    str,
    AfterValidator(_one_line),
    PydanticField(json_schema_extra={"pattern": f"^[^{_LINE_BREAKS}]*$"}),
]


class RequestModel(SQLModel):
    """A request body or query: unknown fields are refused (422), so nothing is
    mass-assigned; NaN and infinities are refused where a number is expected; text that no
    database can store is refused too."""

    model_config = {"extra": "forbid", "allow_inf_nan": False}

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str) and UNSTORABLE_TEXT.search(value):
            raise ValueError("Text must not contain NUL characters or lone surrogates")
        return value


class PageParams(RequestModel):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class SortOrder(StrEnum):
    """An entity's sort orders: a field, or `-` and the field for descending. The schema names
    each value (`x-enum-varnames`), so a generated client writes `TITLE_DESC`, not `VALUE_3`."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(schema))
        json_schema["x-enum-varnames"] = [member.name for member in cls]
        return json_schema

    @property
    def column(self) -> str:
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


class CreatedAtSort(SortOrder):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"


class ListQuery(PageParams):
    """Paging and an order. Each entity's query narrows `sort` to a `SortOrder` of the columns it
    may be sorted by, and may add `q` and equality filters (see `core.crud.scoped_list`).

    A query that leaves `sort` as it is here is refused when its class is made: a plain string,
    or any order, would let a client sort by whatever attribute it names (`hashed_password`)."""

    sort: SortOrder = CreatedAtSort.CREATED_AT_DESC

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        order = cls.model_fields["sort"].annotation
        if not (isinstance(order, type) and issubclass(order, SortOrder) and order is not SortOrder):
            raise TypeError(f"{cls.__name__}.sort must be a SortOrder of the columns it sorts by")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, rows: Sequence[object], *, total: int, params: PageParams) -> Self:
        """A page of table rows; each row is read into the page's schema by its attributes."""
        return cls.model_validate(
            {"items": rows, "total": total, "limit": params.limit, "offset": params.offset},
            from_attributes=True,
        )
