"""Field specs (`sku:str:40:unique price:decimal note:text? order_id:ref:orders`): parsing, and
the Python each one becomes in the entity template."""

import hashlib
import keyword
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from scaffold.names import ScaffoldError
from scaffold.ownership import Ownership

TYPES = ("str", "text", "int", "float", "decimal", "bool", "date", "datetime", "uuid", "ref")
MODIFIERS = ("unique", "index")
DEFAULT_STR_LENGTH = 255
# A `text` is long, never unbounded: a note of a megabyte is a client's mistake or an attack.
DEFAULT_TEXT_LENGTH = 10_000
MAX_STR_LENGTH, MAX_TEXT_LENGTH = 10_000, 1_000_000
# Longer strings are searched or sorted by nobody: `q` and `sort` leave them out.
SEARCHABLE_STR_LENGTH = 255
DECIMAL_DIGITS, DECIMAL_PLACES = 12, 2
# Names the table, the list query or pydantic already use.
RESERVED_FIELDS = {"id", "created_at", "updated_at", "owner_id", "q", "sort", "limit", "offset", "metadata"}
# The fields of `modules/items`, the example, and of an entity made without `fields`.
EXAMPLE_FIELDS = "title:str:200 description:str:5000? is_completed:bool=false"
_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
# Strict where JSON has the type itself: `"is_gift": 0` or `"quantity": "1"` is refused, as the
# schema says (`3.0` is an integer to JSON Schema, so JsonInt takes it). A query string has no
# types, so the list query's filters take their plain forms.
_PYTHON_TYPES = {
    "str": "str",
    "text": "str",
    "int": "JsonInt",
    "float": "float",
    "decimal": "Decimal",
    "bool": "StrictBool",
    "date": "date",
    "datetime": "datetime",
    "uuid": "uuid.UUID",
    "ref": "uuid.UUID",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    length: int | None = None  # str and text only
    optional: bool = False
    default: object = None  # a Python value; None means no default
    unique: bool = False
    index: bool = False
    target: str | None = None  # ref only: the table referred to

    @property
    def required(self) -> bool:
        return not self.optional and self.default is None

    @property
    def nonempty(self) -> bool:
        """A required string refuses "" (min_length=1)."""
        return self.kind in {"str", "text"} and self.required

    @property
    def python_type(self) -> str:
        base = _PYTHON_TYPES[self.kind]
        return f"{base} | None" if self.optional else base

    @property
    def max_length(self) -> int:
        """A `str` or `text` field's longest value, in characters."""
        return self.length or (DEFAULT_TEXT_LENGTH if self.kind == "text" else DEFAULT_STR_LENGTH)

    @property
    def searchable(self) -> bool:
        return self.kind == "str" and self.max_length <= SEARCHABLE_STR_LENGTH

    @property
    def sortable(self) -> bool:
        return self.searchable or self.kind in {"int", "float", "decimal", "date", "datetime"}

    @property
    def filterable(self) -> bool:
        """Filtered by equality: flags, references and what the table indexes."""
        return self.kind in {"bool", "uuid", "ref"} or (
            (self.unique or self.index) and self.kind not in {"text", "float"}
        )

    @property
    def on_delete(self) -> str:
        """What deleting the referred row does: a required reference goes with it."""
        return "SET NULL" if self.optional else "CASCADE"

    def validation_args(self) -> list[str]:
        args = []
        if self.nonempty:
            args.append("min_length=1")
        if self.kind in {"str", "text"}:
            args.append(f"max_length={self.max_length}")
        if self.kind == "int":
            args += ["ge=-(2**31)", "le=2**31 - 1"]
        if self.kind == "decimal":
            args += [f"max_digits={DECIMAL_DIGITS}", f"decimal_places={DECIMAL_PLACES}"]
        return args

    def column_args(self, *, ownership: Ownership) -> list[str]:
        """What the table needs beside validation. An owned entity's unique field is unique per
        owner, which the table states as a constraint of two columns (see the model template)."""
        args = []
        if self.kind == "ref":
            args += [f'foreign_key="{self.target}.id"', f'ondelete="{self.on_delete}"', "index=True"]
        if self.unique and ownership.column is None:
            args.append("unique=True")
        if self.index:
            args.append("index=True")
        if self.kind == "text":
            args.append("sa_type=Text")
        if self.kind == "datetime":
            args.append("sa_type=UTCDateTime")
        return args

    def model_field(self, *, ownership: Ownership) -> tuple[str, list[str]]:
        """The field in the `<Entity>Base` table model: `name: type` and its `Field` arguments
        (none: a plain default, or no default at all)."""
        args = [*self.validation_args(), *self.column_args(ownership=ownership)]
        default = self.default if self.default is not None or self.optional else ...
        return self._field(args, default)

    def update_field(self) -> tuple[str, list[str]]:
        """The field in `<Entity>Update`: every field may be left out."""
        return self._field(self.validation_args(), None, python_type=f"{_PYTHON_TYPES[self.kind]} | None")

    def query_field(self) -> tuple[str, list[str]]:
        """The field in `<Entity>Query`, an equality filter: bounded as the column is."""
        base = {"int": "int", "bool": "bool"}.get(self.kind, _PYTHON_TYPES[self.kind])
        args = [arg for arg in self.validation_args() if arg != "min_length=1"]
        return self._field(args, None, python_type=f"{base} | None")

    def _field(
        self, args: list[str], default: object, *, python_type: str | None = None
    ) -> tuple[str, list[str]]:
        annotation = f"{self.name}: {python_type or self.python_type}"
        if default is ...:
            return annotation, args
        if not args:
            return f"{annotation} = {render_value(default)}", []
        return annotation, [f"default={render_value(default)}", *args]

    def sample(self, which: int) -> str:
        """A valid value as JSON sends it, in Python source; sample 0 sorts before sample 1."""
        if self.kind == "str":
            return python_string(("alpha", "bravo")[which][: self.max_length])
        if self.kind == "ref":
            # Fixed ids, one pair per field: the tests make the rows behind them before each test.
            digits = hashlib.sha256(self.name.encode()).hexdigest()[:10]
            return python_string(f"00000000-0000-4000-8000-{digits}{which + 1:02d}")
        return {
            "text": ('"first text"', '"second text"'),
            "int": ("1", "2"),
            "float": ("1.5", "2.5"),
            "decimal": ('"10.50"', '"20.25"'),
            "bool": ("True", "False"),
            "date": ('"2024-01-15"', '"2024-02-20"'),
            "datetime": ('"2024-01-15T10:30:00Z"', '"2024-02-20T12:00:00Z"'),
            "uuid": ('"00000000-0000-4000-8000-000000000001"', '"00000000-0000-4000-8000-000000000002"'),
        }[self.kind][which]

    def invalid(self) -> list[str]:
        """Values the field must refuse (422), in Python source."""
        values = [] if self.optional else ["None"]
        if self.kind in {"str", "text"}:
            # NUL, and a lone surrogate: text no database can store.
            values += ["123", '"a\\x00b"', '"a\\ud800b"', f'"x" * {self.max_length + 1}']
            if self.nonempty:
                values.append('""')
            return values
        return (
            values
            + {
                "int": ['"many"', "2**31", '"1"', "1.5", "True"],
                "float": ['"many"'],
                "decimal": ['"many"', '"1.234"'],
                "bool": ['"maybe"', "0"],
                "date": ['"2024-13-01"'],
                "datetime": ['"yesterday"'],
                "uuid": ['"not-a-uuid"'],
                "ref": ['"not-a-uuid"'],
            }[self.kind]
        )

    def default_json(self) -> str:
        """What a create that leaves the field out reads back, in Python source."""
        if self.default is None or isinstance(self.default, bool | int | float | str):
            return render_value(self.default)
        return python_string(str(self.default))


def render_value(value: object) -> str:
    """Python source for a value, quoted the way the formatter would quote it."""
    if isinstance(value, Decimal):
        return f'Decimal("{value}")'
    if isinstance(value, date):
        return f"date({value.year}, {value.month}, {value.day})"
    if isinstance(value, str):
        return python_string(value)
    return repr(value)


def python_string(value: str) -> str:
    """A string literal in double quotes, unless that would need more escapes than single ones."""
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def _default(kind: str, raw: str, token: str) -> object:
    try:
        if kind in {"str", "text"}:
            return raw
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "decimal":
            return Decimal(raw)
        if kind == "bool":
            return _BOOLEANS[raw.lower()]
        if kind == "date":
            return date.fromisoformat(raw)
    except (ValueError, KeyError, InvalidOperation):
        raise ScaffoldError(f"field {token!r}: {raw!r} is not a {kind}") from None
    raise ScaffoldError(f"field {token!r}: a {kind} field cannot have a default")


def parse_fields(text: str) -> list[FieldSpec]:
    """`name:type[:length][?][:unique][:index][=default]`, or `name:ref[?]:table[:unique]`,
    separated by spaces or commas."""
    specs: list[FieldSpec] = []
    for token in text.replace(",", " ").split():
        specs.append(_parse_field(token, taken={spec.name for spec in specs}))
    if not specs:
        raise ScaffoldError("fields is empty")
    return specs


def _parse_field(token: str, *, taken: set[str]) -> FieldSpec:
    head, has_default, raw_default = token.partition("=")
    name, *parts = head.split(":")
    optional = any(part.endswith("?") for part in parts)
    kind, *modifiers = [part.removesuffix("?") for part in parts] or [""]
    if not _NAME.fullmatch(name) or keyword.iskeyword(name) or name.startswith("model_"):
        raise ScaffoldError(f"field {token!r}: {name!r} is not a valid field name")
    if name in RESERVED_FIELDS:
        raise ScaffoldError(f"field {token!r}: {name!r} is reserved")
    if name in taken:
        raise ScaffoldError(f"field {token!r}: {name!r} is given twice")
    if kind not in TYPES:
        raise ScaffoldError(f"field {token!r}: the type must be one of {', '.join(TYPES)}")
    target = None
    if kind == "ref":
        if not modifiers or not _NAME.fullmatch(modifiers[0]):
            raise ScaffoldError(f"field {token!r}: a ref names the table it refers to: {name}:ref:orders")
        target = modifiers.pop(0)
        if has_default:
            raise ScaffoldError(f"field {token!r}: a ref field cannot have a default")
    length = None
    if kind in {"str", "text"} and modifiers and modifiers[0].isdigit():
        length = int(modifiers.pop(0))
        longest = MAX_STR_LENGTH if kind == "str" else MAX_TEXT_LENGTH
        if not 1 <= length <= longest:
            raise ScaffoldError(f"field {token!r}: a {kind} length must be between 1 and {longest}")
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown or len(set(modifiers)) != len(modifiers):
        raise ScaffoldError(f"field {token!r}: modifiers are {', '.join(MODIFIERS)}, each at most once")
    default = _default(kind, raw_default, token) if has_default else None
    if isinstance(default, str) and length is not None and len(default) > length:
        raise ScaffoldError(f"field {token!r}: the default is longer than {length}")
    if isinstance(default, Decimal) and (
        default.as_tuple().exponent < -DECIMAL_PLACES  # type: ignore[operator]
        or len(default.as_tuple().digits) > DECIMAL_DIGITS
    ):
        raise ScaffoldError(f"field {token!r}: a decimal has {DECIMAL_PLACES} places")
    return FieldSpec(
        name=name,
        kind=kind,
        length=length,
        optional=optional,
        default=default,
        unique="unique" in modifiers,
        index="index" in modifiers and kind != "ref",
        target=target,
    )
