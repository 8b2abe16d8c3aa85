"""Shared schema blocks: request bodies refuse unknown fields; pages carry their paging."""

import math
from types import SimpleNamespace

import pytest
from pydantic import BaseModel, ValidationError

from core.schemas import JsonInt, ListQuery, Page, PageParams, RequestModel, SortOrder


class Body(RequestModel):
    name: str


class Row(BaseModel):
    name: str


class RowPage(Page[Row]):
    pass


def test_request_model_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Body.model_validate({"name": "x", "is_admin": True})


@pytest.mark.parametrize("text", ["\x00", "a\x00b"])
def test_request_model_refuses_text_with_a_nul(text: str) -> None:
    # PostgreSQL cannot store it; a 422 instead of a 500 from the database.
    with pytest.raises(ValidationError, match="NUL"):
        Body.model_validate({"name": text})


def test_page_params_defaults() -> None:
    assert (PageParams().limit, PageParams().offset) == (20, 0)


@pytest.mark.parametrize("values", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_page_params_bounds(values: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        PageParams.model_validate(values)


def test_page_reads_rows_by_attribute() -> None:
    rows = [SimpleNamespace(name="a", secret="s"), SimpleNamespace(name="b", secret="s")]

    page = RowPage.of(rows, total=7, params=PageParams(limit=2, offset=4))

    assert page.model_dump() == {"items": [{"name": "a"}, {"name": "b"}], "total": 7, "limit": 2, "offset": 4}


class Counted(RequestModel):
    count: JsonInt
    ratio: float = 1.0


@pytest.mark.parametrize("count", [3, 3.0])
def test_an_integer_is_what_json_schema_calls_one(count: object) -> None:
    assert Counted.model_validate({"count": count}).count == 3


@pytest.mark.parametrize("count", ["3", True, 3.5])
def test_an_integer_is_never_text_a_flag_or_a_fraction(count: object) -> None:
    with pytest.raises(ValidationError, match="count"):
        Counted.model_validate({"count": count})


@pytest.mark.parametrize("ratio", [math.nan, math.inf, -math.inf])
def test_a_request_number_is_finite(ratio: float) -> None:
    # JSON has no NaN: a request with one is refused, and no answer has to carry it.
    with pytest.raises(ValidationError, match="ratio"):
        Counted.model_validate({"count": 1, "ratio": ratio})


class Order(SortOrder):
    NAME = "name"
    NAME_DESC = "-name"


def test_a_sort_order_names_its_values_for_client_generators() -> None:
    class Query(RequestModel):
        sort: Order = Order.NAME

    schema = Query.model_json_schema()["$defs"]["Order"]
    assert (schema["enum"], schema["x-enum-varnames"]) == (["name", "-name"], ["NAME", "NAME_DESC"])


def test_a_list_query_that_does_not_narrow_its_sort_is_refused_when_it_is_written() -> None:
    with pytest.raises(TypeError, match=r"Forgetful\.sort must be a SortOrder"):

        class Forgetful(ListQuery):
            q: str | None = None


def test_a_list_query_whose_sort_is_any_text_is_refused_when_it_is_written() -> None:
    with pytest.raises(TypeError, match=r"Loose\.sort must be a SortOrder"):

        class Loose(ListQuery):
            sort: str = "-created_at"  # type: ignore[assignment]


@pytest.mark.parametrize("sort", ["hashed_password", "-hashed_password", "email", "__class__"])
def test_a_narrowed_sort_refuses_every_other_name(sort: str) -> None:
    class Narrow(ListQuery):
        sort: Order = Order.NAME

    with pytest.raises(ValidationError, match="sort"):
        Narrow.model_validate({"sort": sort})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "NUL"),
        ("a\ud800b", "surrogates"),
        ("\udfff", "surrogates"),
        ("high \ud83d alone", "surrogates"),
    ],
)
def test_request_text_that_no_database_can_store_is_refused(text: str, problem: str) -> None:
    class Note(RequestModel):
        body: str

    with pytest.raises(ValidationError, match=problem):
        Note.model_validate({"body": text})


def test_request_text_with_characters_beyond_the_basic_plane_is_kept() -> None:
    class Note(RequestModel):
        body: str

    assert Note.model_validate({"body": "ok \U0001f600 \u00e9"}).body == "ok \U0001f600 \u00e9"
