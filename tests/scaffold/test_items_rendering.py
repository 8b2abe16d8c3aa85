"""`modules/items` and its tests are the entity template's rendering, byte for byte, so the
example is real code and the template cannot drift from it.

A test of the template repository only: in a generated service, items is the team's to change,
and no service carries it."""

from pathlib import Path

from scaffold import remove
from scaffold.engine import plan
from scaffold.fields import EXAMPLE_FIELDS, parse_fields
from scaffold.names import Names
from scaffold.ownership import Ownership
from tests.helpers import ROOT
from tests.scaffold.helpers import copy_project


def test_items_and_its_tests_are_the_templates_rendering(tmp_path: Path):
    project = copy_project(tmp_path)
    remove(project, "items")
    planned = plan(
        project,
        Names("items", "item"),
        parse_fields(EXAMPLE_FIELDS),
        ownership=Ownership.USER,
        named_by_entity=True,
    )
    committed = {
        path.relative_to(ROOT)
        for folder in ("modules/items", "tests/items")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert set(planned) - {Path("migrations/versions/add_items.py")} == committed
    for path, text in planned.items():
        assert (ROOT / path).read_text() == text, f"{path} differs from its rendering: run the scaffold"
