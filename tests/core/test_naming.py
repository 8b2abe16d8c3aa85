"""Derived names: tables, plurals, and the table names of every model."""

import pytest

from core.naming import plural, singular, snake_case, table_name
from modules.auth.models import AuthSession
from modules.users.models import User


@pytest.mark.parametrize(
    ("class_name", "expected"),
    [
        ("OrderLine", "order_lines"),
        ("Item", "items"),
        ("Category", "categories"),
        ("Box", "boxes"),
        ("AuthSession", "auth_sessions"),
        ("HTTPRequestLog", "http_request_logs"),
    ],
)
def test_table_name(class_name: str, expected: str) -> None:
    assert table_name(class_name) == expected


def test_snake_case_splits_words_and_acronyms() -> None:
    assert snake_case("OrderLine") == "order_line"
    assert snake_case("HTTPRequest") == "http_request"
    assert snake_case("Item2Tag") == "item2_tag"


@pytest.mark.parametrize(
    ("word", "words"),
    [
        ("category", "categories"),
        ("box", "boxes"),
        ("item", "items"),
        ("day", "days"),
        ("class", "classes"),
        ("match", "matches"),
        ("wish", "wishes"),
    ],
)
def test_plural_and_singular_invert_each_other(word: str, words: str) -> None:
    assert plural(word) == words
    assert singular(words) == word


def test_singular_leaves_a_word_ending_in_ss() -> None:
    assert singular("address") == "address"


@pytest.mark.parametrize(("model", "expected"), [(User, "users"), (AuthSession, "auth_sessions")])
def test_table_subclasses_get_derived_table_names(model: type, expected: str) -> None:
    assert model.__tablename__ == expected  # type: ignore[attr-defined]
    assert model.__table__.name == expected  # type: ignore[attr-defined]
