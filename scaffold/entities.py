"""The template's `entities` answer: several entities in one line, made in dependency order.

    appointments(starts_at:datetime patient_id:ref:patients), patients(name:str:120),
    people/person(name:str), tags(name:str:40:unique owned=no)

Each entity is `plural[/singular]`, optionally followed by what `make entity` takes, in
parentheses: field specs, and `owned=...` (`make entity`'s choices: `owned=no` for reference
data). Without fields an entity gets the example's (`items`); without `owned=`, the answer's
default ownership.
"""

import re
from dataclasses import dataclass

from scaffold.engine import refuse_clashes
from scaffold.fields import EXAMPLE_FIELDS, FieldSpec, parse_fields
from scaffold.names import Names, ScaffoldError
from scaffold.ownership import Ownership

_ENTITY = re.compile(
    r"\s*(?P<plural>[^,(/\s]+)(?:/(?P<singular>[^,(\s]+))?\s*(?:\((?P<inside>[^)]*)\))?\s*(?:,|$)"
)


@dataclass(frozen=True)
class Entity:
    names: Names
    fields: str | None
    ownership: Ownership

    @property
    def specs(self) -> list[FieldSpec]:
        return parse_fields(EXAMPLE_FIELDS if self.fields is None else self.fields)


def parse_entities(answer: str, *, existing: set[str], default: Ownership = Ownership.USER) -> list[Entity]:
    """The entities of an answer, each after the ones it refers to. `existing` holds the tables
    a reference may name beside the listed entities; an entity that does not say `owned=` is
    owned as `default` says. Raises `ScaffoldError` naming the entity."""
    entities: dict[str, Entity] = {}
    position = 0
    while answer[position:].strip():
        match = _ENTITY.match(answer, position)
        if match is None or match.end() == position:
            raise ScaffoldError(
                f"cannot read {answer[position:].strip()!r}: write plural[/singular][(fields)]"
            )
        position = match.end()
        entity = _entity(match["plural"], match["singular"], match["inside"], default)
        if entity.names.plural in entities or entity.names.plural in existing:
            raise ScaffoldError(f"{entity.names.plural}: listed twice")
        entities[entity.names.plural] = entity
    return _in_dependency_order(entities, existing)


def _entity(plural: str, singular: str | None, inside: str | None, default: Ownership) -> Entity:
    try:
        names = Names.parse(plural, singular, hint=f"write {plural}/<singular>")
        options = [token for token in (inside or "").replace(",", " ").split() if token.startswith("owned=")]
        fields = " ".join(token for token in (inside or "").replace(",", " ").split() if token not in options)
        values = [option.removeprefix("owned=") for option in options]
        if len(values) > 1 or not set(values) <= set(Ownership):
            raise ScaffoldError(f"{' '.join(options)}: owned is {' or '.join(Ownership)}, given once")
        ownership = Ownership(values[0]) if values else default
        entity = Entity(names=names, fields=fields or None, ownership=ownership)
        refuse_clashes(entity.names, entity.specs, ownership=entity.ownership)
    except ScaffoldError as exc:
        raise ScaffoldError(f"{plural}: {exc}") from None
    return entity


def _in_dependency_order(entities: dict[str, Entity], existing: set[str]) -> list[Entity]:
    ordered: list[Entity] = []
    visiting: list[str] = []

    def visit(entity: Entity) -> None:
        if entity in ordered:
            return
        if entity.names.plural in visiting:
            raise ScaffoldError(f"{entity.names.plural}: its references go round in a circle")
        visiting.append(entity.names.plural)
        for spec in entity.specs:
            target = spec.target
            if target is None or target in existing:
                continue
            if target not in entities:
                raise ScaffoldError(
                    f"{entity.names.plural}: field {spec.name!r} refers to {target}, which is not listed"
                )
            entity.ownership.refuse_reference(spec.name, target, entities[target].ownership)
            visit(entities[target])
        visiting.pop()
        ordered.append(entity)

    for entity in entities.values():
        visit(entity)
    return ordered
