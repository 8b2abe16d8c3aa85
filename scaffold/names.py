"""Every form of an entity's name, derived from its plural (and singular, when irregular)."""

import keyword
import re
import sys
from dataclasses import dataclass

from core.naming import singular as naive_singular

_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*")
# Folders and packages an entity may never be called, beside keywords and the standard library.
RESERVED = {"auth", "users", "core", "modules", "tests", "scaffold", "migrations"}


class ScaffoldError(Exception):
    """A refusal: the message is one line naming the problem, and nothing has been written."""


@dataclass(frozen=True)
class Names:
    plural: str  # order_lines: the folder, the table, the route prefix
    singular: str  # order_line

    @classmethod
    def parse(
        cls, name: str, singular: str | None = None, *, hint: str = "give one with singular=..."
    ) -> "Names":
        for value, what in ((name, "name"), (singular, "singular")):
            if value is not None and not _SNAKE.fullmatch(value):
                raise ScaffoldError(f"{what} {value!r} is not a lower-case snake_case identifier")
        if name in RESERVED or keyword.iskeyword(name) or name in sys.stdlib_module_names:
            raise ScaffoldError(f"name {name!r} is reserved (a keyword, stdlib module or project package)")
        words = name.split("_")
        singular = singular or "_".join([*words[:-1], naive_singular(words[-1])])
        if singular == name:
            raise ScaffoldError(f"name {name!r} has no distinct singular: {hint}")
        if keyword.iskeyword(singular):
            raise ScaffoldError(f"singular {singular!r} is a Python keyword: {hint}")
        return cls(plural=name, singular=singular)

    @property
    def pascal(self) -> str:
        return "".join(word.capitalize() for word in self.singular.split("_"))

    @property
    def prose(self) -> str:
        return self.singular.replace("_", " ")

    @property
    def prose_plural(self) -> str:
        return self.plural.replace("_", " ")
