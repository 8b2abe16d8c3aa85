"""Every form of an entity's name, and the renaming of copied source from one entity to another."""

import io
import keyword
import re
import sys
import tokenize
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from core.naming import singular as naive_singular

_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*")
# Folders and packages an entity may never be called, beside keywords and the standard library.
RESERVED = {"auth", "users", "core", "modules", "tests", "scaffold", "migrations"}
# Files the scaffold adds beside the copy, written in the example's names and renamed like it.
TEMPLATES = Path(__file__).parent / "templates"


class ScaffoldError(Exception):
    """A refusal: the message is one line naming the problem, and nothing has been written."""


@dataclass(frozen=True)
class Names:
    plural: str  # order_lines: the folder, the table, the route prefix
    singular: str  # order_line

    @classmethod
    def parse(cls, name: str, singular: str | None = None) -> "Names":
        for value, what in ((name, "name"), (singular, "singular")):
            if value is not None and not _SNAKE.fullmatch(value):
                raise ScaffoldError(f"{what} {value!r} is not a lower-case snake_case identifier")
        if name in RESERVED or keyword.iskeyword(name) or name in sys.stdlib_module_names:
            raise ScaffoldError(f"name {name!r} is reserved (a keyword, stdlib module or project package)")
        words = name.split("_")
        singular = singular or "_".join([*words[:-1], naive_singular(words[-1])])
        if singular == name:
            raise ScaffoldError(f"name {name!r} has no distinct singular: give one with singular=...")
        if keyword.iskeyword(singular):
            raise ScaffoldError(f"singular {singular!r} is a Python keyword: give another with singular=...")
        return cls(plural=name, singular=singular)

    @property
    def pascal(self) -> str:
        return "".join(word.capitalize() for word in self.singular.split("_"))

    @property
    def pascal_plural(self) -> str:
        return "".join(word.capitalize() for word in self.plural.split("_"))

    @property
    def prose(self) -> str:
        return self.singular.replace("_", " ")

    @property
    def prose_plural(self) -> str:
        return self.plural.replace("_", " ")

    def code_forms(self) -> dict[str, str]:
        """Identifier forms, keyed by the shape they take in `items`/`item`."""
        return {
            "items": self.plural,
            "item": self.singular,
            "Items": self.pascal_plural,
            "Item": self.pascal,
            "ITEMS": self.plural.upper(),
            "ITEM": self.singular.upper(),
        }

    def prose_forms(self) -> dict[str, str]:
        return {
            "items": self.prose_plural,
            "item": self.prose,
            "Items": self.prose_plural.capitalize(),
            "Item": self.prose.capitalize(),
            "ITEMS": self.plural.upper(),
            "ITEM": self.singular.upper(),
        }


_PROSE_BEFORE = set(" \t\n([\"'`")
_PROSE_AFTER = set(" \t\n,;:!?)]\"'`")


def _text_regions(source: str) -> list[tuple[int, int]]:
    """Offsets of the string literals and comments: there a name may be prose."""
    offsets = [0]
    for line in io.StringIO(source):
        offsets.append(offsets[-1] + len(line))

    def at(position: tuple[int, int]) -> int:
        return offsets[position[0] - 1] + position[1]

    regions: list[tuple[int, int]] = []
    fstring_starts: list[int] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = tokenize.tok_name[token.type]
        if kind in {"STRING", "COMMENT"} and not fstring_starts:
            regions.append((at(token.start), at(token.end)))
        elif kind == "FSTRING_START":  # Python 3.12+ splits f-strings into tokens
            fstring_starts.append(at(token.start))
        elif kind == "FSTRING_END":
            start = fstring_starts.pop()
            if not fstring_starts:
                regions.append((start, at(token.end)))
    return regions


def rename(source: str, old: Names, new: Names, *, python: bool = True) -> str:
    """Rename every form of `old` in `source` to the same form of `new`.

    A form is found as a word or as a part of an identifier (`list_items`, `ItemCreate`,
    `OwnedItem`); the plural is tried first, so `items` is never read as `item` + `s`.

    In code a form becomes the identifier (`order_lines`, `OrderLine`); in strings and comments
    it becomes words where it reads as a word (`"Order line not found"`), the kebab form where
    it is joined by hyphens (`"order-lines-list"`), and the identifier elsewhere (paths, keys).
    The page envelope's key (`body["items"]`) and the dict method `.items()` stay as they are.
    """
    shapes = old.code_forms()
    shape_of = {value: shape for shape, value in shapes.items()}
    pattern = re.compile(
        "|".join(
            f"(?<!{before}){alternatives}(?!{after})"
            for before, alternatives, after in (
                ("[a-z]", f"({shapes['items']}|{shapes['item']})", "[a-z]"),
                ("[A-Z]", f"({shapes['Items']}|{shapes['Item']})", "[a-z]"),
                ("[A-Z]", f"({shapes['ITEMS']}|{shapes['ITEM']})", "[A-Z]"),
            )
        )
    )
    code, prose = new.code_forms(), new.prose_forms()
    kebab = {"items": new.plural.replace("_", "-"), "item": new.singular.replace("_", "-")}
    regions = _text_regions(source) if python else []
    starts = [start for start, _ in regions]
    out: list[str] = []
    last = 0
    for match in pattern.finditer(source):
        begin, end = match.span()
        shape = shape_of[match.group()]
        index = bisect_right(starts, begin) - 1
        in_text = index >= 0 and begin < regions[index][1]
        before = source[begin - 1] if begin else "\n"
        after = source[end] if end < len(source) else "\n"
        if not in_text:
            keep = shape == "items" and before == "." and after == "("
            replacement = match.group() if keep else code[shape]
        elif shape == "items" and before in "\"'" and after == before:
            # A whole "items" string: the page envelope's key where it is one (`body["items"]`,
            # `{"items": ...}`), otherwise the tag.
            opening = source[: begin - 1].rstrip()
            subscript = opening.endswith("[") and (
                opening[-2:-1].isalnum() or opening[-2:-1] in {"_", ")", "]"}
            )
            key = subscript or source[end + 1 :].lstrip().startswith(":")
            replacement = match.group() if key else kebab[shape]
        elif shape in kebab and "-" in (before, after):
            replacement = kebab[shape]
        elif before in _PROSE_BEFORE and (
            after in _PROSE_AFTER or (after == "." and not source[end + 1 : end + 2].isidentifier())
        ):
            replacement = prose[shape]
        else:
            replacement = code[shape]
        out += [source[last:begin], replacement]
        last = end
    out.append(source[last:])
    return "".join(out)


# The example every entity is copied from.
EXAMPLE = Names(plural="items", singular="item")
