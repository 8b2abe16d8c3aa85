"""Shared schema blocks: request bodies refuse unknown fields; pages carry their paging."""

from types import SimpleNamespace

import pytest
from pydantic import BaseModel, ValidationError

from core.schemas import Page, PageParams, RequestModel


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
