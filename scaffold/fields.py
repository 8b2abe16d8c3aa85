"""Field specs (`sku:str:40:unique price:decimal note:text?`): parsing, and the code each one becomes."""

import ast
import keyword
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from scaffold.names import ScaffoldError

TYPES = ("str", "text", "int", "float", "decimal", "bool", "date", "datetime", "uuid")
MODIFIERS = ("unique", "index")
DEFAULT_STR_LENGTH = 255
# Longer strings are searched or sorted by nobody: `q` and `sort` leave them out.
SEARCHABLE_STR_LENGTH = 255
DECIMAL_DIGITS, DECIMAL_PLACES = 12, 2
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # a PostgreSQL integer
# Names the table, the list query or pydantic already use.
RESERVED_FIELDS = {"id", "created_at", "updated_at", "owner_id", "q", "sort", "limit", "offset", "metadata"}
_FIELD_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    length: int | None = None  # str only
    optional: bool = False
    default: object = None  # a Python value; None means no default
    unique: bool = False
    index: bool = False
    # A required string refuses "" (min_length=1).
    nonempty: bool = False

    @property
    def python_type(self) -> str:
        base = {
            "str": "str",
            "text": "str",
            "int": "int",
            "float": "float",
            "decimal": "Decimal",
            "bool": "bool",
            "date": "date",
            "datetime": "datetime",
            "uuid": "uuid.UUID",
        }[self.kind]
        return f"{base} | None" if self.optional else base

    @property
    def searchable(self) -> bool:
        return self.kind == "str" and (self.length or DEFAULT_STR_LENGTH) <= SEARCHABLE_STR_LENGTH

    @property
    def sortable(self) -> bool:
        return self.searchable or self.kind in {"int", "float", "decimal", "date", "datetime"}

    @property
    def filterable(self) -> bool:
        """Filtered by equality: flags, references and what the table indexes."""
        return self.kind in {"bool", "uuid"} or (
            (self.unique or self.index) and self.kind not in {"text", "float"}
        )

    def validation_args(self) -> list[str]:
        args = []
        if self.nonempty:
            args.append("min_length=1")
        if self.kind == "str":
            args.append(f"max_length={self.length or DEFAULT_STR_LENGTH}")
        if self.kind == "int":
            args += ["ge=-(2**31)", "le=2**31 - 1"]
        if self.kind == "decimal":
            args += [f"max_digits={DECIMAL_DIGITS}", f"decimal_places={DECIMAL_PLACES}"]
        return args

    def model_line(self) -> str:
        """The field in the `<Entity>Base` table model."""
        args = self.validation_args()
        if self.unique:
            args.append("unique=True")
        if self.index:
            args.append("index=True")
        if self.kind == "text":
            args.append("sa_type=Text")
        if self.kind == "datetime":
            args.append("sa_type=UTCDateTime")
        return self._line(args, self.default if self.default is not None or self.optional else ...)

    def update_line(self) -> str:
        """The field in `<Entity>Update`: every field may be left out."""
        python_type = f"{self.python_type.removesuffix(' | None')} | None"
        return self._line(self.validation_args(), None, python_type=python_type)

    def _line(self, args: list[str], default: object, *, python_type: str | None = None) -> str:
        annotation = f"{self.name}: {python_type or self.python_type}"
        if default is ...:
            return f"{annotation} = Field({', '.join(args)})" if args else annotation
        if not args:
            return f"{annotation} = {render_value(default)}"
        return f"{annotation} = Field({', '.join([f'default={render_value(default)}', *args])})"


def render_value(value: object) -> str:
    if isinstance(value, Decimal):
        return f'Decimal("{value}")'
    if isinstance(value, date):
        return f"date({value.year}, {value.month}, {value.day})"
    return repr(value)


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
    """`name:type[:length][?][:unique][:index][=default]`, separated by spaces or commas."""
    specs: list[FieldSpec] = []
    for token in text.replace(",", " ").split():
        head, has_default, raw_default = token.partition("=")
        name, *parts = head.split(":")
        optional = False
        cleaned = []
        for part in parts:
            optional = optional or part.endswith("?")
            cleaned.append(part.removesuffix("?"))
        if not _FIELD_NAME.fullmatch(name) or keyword.iskeyword(name) or name.startswith("model_"):
            raise ScaffoldError(f"field {token!r}: {name!r} is not a valid field name")
        if name in RESERVED_FIELDS:
            raise ScaffoldError(f"field {token!r}: {name!r} is reserved")
        if name in {spec.name for spec in specs}:
            raise ScaffoldError(f"field {token!r}: {name!r} is given twice")
        if not cleaned or cleaned[0] not in TYPES:
            raise ScaffoldError(f"field {token!r}: the type must be one of {', '.join(TYPES)}")
        kind, *modifiers = cleaned
        length = None
        if kind == "str" and modifiers and modifiers[0].isdigit():
            length = int(modifiers.pop(0))
            if not 1 <= length <= 10_000:
                raise ScaffoldError(f"field {token!r}: a str length must be between 1 and 10000")
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
        specs.append(
            FieldSpec(
                name=name,
                kind=kind,
                length=length,
                optional=optional,
                default=default,
                unique="unique" in modifiers,
                index="index" in modifiers,
                nonempty=kind in {"str", "text"} and not optional and default is None,
            )
        )
    if not specs:
        raise ScaffoldError("fields is empty")
    return specs


_ANNOTATION_KINDS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "Decimal": "decimal",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
    "uuid.UUID": "uuid",
}


def read_model_fields(source: str, class_name: str) -> list[FieldSpec]:
    """The specs of the fields `class_name` declares, read back from its source.

    Used without `fields`: the copied model is kept as it is and the migration and tests follow
    it. Anything the spec language cannot say is refused rather than guessed.
    """
    tree = ast.parse(source)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    if not classes:
        raise ScaffoldError(f"the example model has no class {class_name}")
    specs = []
    for statement in classes[0].body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        name = statement.target.id
        annotation = ast.unparse(statement.annotation)
        optional = annotation.endswith(" | None")
        kind = _ANNOTATION_KINDS.get(annotation.removesuffix(" | None"))
        keywords: dict[str, object] = {}
        value = statement.value
        if isinstance(value, ast.Call) and ast.unparse(value.func) == "Field":
            keywords = {k.arg or "": ast.unparse(k.value) for k in value.keywords}
        elif value is not None:
            keywords = {"default": ast.unparse(value)}
        if keywords.get("sa_type") == "Text":
            kind = "text"
        if kind is None:
            raise ScaffoldError(f"cannot read the example field {name}: {ast.unparse(statement)}")
        length = keywords.get("max_length")
        default = keywords.get("default")
        specs.append(
            FieldSpec(
                name=name,
                kind=kind,
                length=int(str(length)) if kind == "str" and length else None,
                optional=optional,
                default=None if default in (None, "None") else ast.literal_eval(str(default)),
                unique=keywords.get("unique") == "True",
                index=keywords.get("index") == "True",
                nonempty=keywords.get("min_length") == "1",
            )
        )
    return specs
