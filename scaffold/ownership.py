"""Who an entity's rows belong to, as `make entity owned=...` and the `entities` answer spell it."""

from enum import StrEnum

from scaffold.names import ScaffoldError


class Ownership(StrEnum):
    USER = "yes"
    NONE = "no"
    ORGANIZATION = "org"

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]

    @property
    def column(self) -> str | None:
        """The column that gives a row to its owner, and scopes its references and unique values."""
        return _SCOPES[self][0] if self in _SCOPES else None

    def refuse_reference(self, field: str, target: str, theirs: "Ownership") -> None:
        """A reference stays with the row's owner: checked when both rows have the same kind of
        owner, and refused between two kinds, where there is nothing to check it against."""
        if self.column and theirs.column and self is not theirs:
            raise ScaffoldError(
                f"field {field!r} refers to {target}, whose rows are owned={theirs}, from rows owned={self}:"
                " a reference stays with its owner (refer to reference data, users or rows owned alike)"
            )

    @property
    def owners(self) -> str | None:
        """The table of the owners, which that column refers to."""
        return _SCOPES[self][1] if self in _SCOPES else None


_MEANINGS = {
    Ownership.USER: "each row is one account's (the default)",
    Ownership.NONE: "reference data, which every user reads and superusers write",
    Ownership.ORGANIZATION: "each row is one organization's, its members' roles say who may do what",
}
_SCOPES = {
    Ownership.USER: ("owner_id", "users"),
    Ownership.ORGANIZATION: ("organization_id", "organizations"),
}
