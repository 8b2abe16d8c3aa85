"""The one place where names are derived: tables, tags, operation ids all follow these rules."""

import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """`OrderLine` -> `order_line`."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def plural(word: str) -> str:
    """English plural for regular words; irregular ones set `__tablename__` themselves."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def singular(word: str) -> str:
    """The inverse of `plural` for the words it produces."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if re.search(r"(s|x|z|ch|sh)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def table_name(class_name: str) -> str:
    """`OrderLine` -> `order_lines`."""
    words = snake_case(class_name).split("_")
    return "_".join([*words[:-1], plural(words[-1])])
