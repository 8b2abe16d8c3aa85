"""What the scaffold refuses: a one-line reason, and not a single file written."""

from pathlib import Path

import pytest

from scaffold import ScaffoldError, remove, scaffold
from tests.scaffold.helpers import copy_project, files_of


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.mark.parametrize(
    ("name", "singular", "reason"),
    [
        ("auth_sessions", None, "a table named auth_sessions already exists"),
        ("jobs", None, "a table named jobs already exists"),
        ("auth", None, "reserved"),
        ("users", None, "reserved"),
        ("core", None, "reserved"),
        ("scaffold", None, "reserved"),
        ("class", None, "reserved"),
        ("json", None, "reserved"),
        ("logging", None, "reserved"),
        ("Orders", None, "not a lower-case snake_case identifier"),
        ("sample-order-lines", None, "not a lower-case snake_case identifier"),
        ("order__lines", None, "not a lower-case snake_case identifier"),
        ("2orders", None, "not a lower-case snake_case identifier"),
        ("", None, "not a lower-case snake_case identifier"),
        ("sample_people", None, "no distinct singular"),
        ("sample_people", "Person", "singular 'Person' is not"),
        ("classes", None, "singular 'class' is a Python keyword"),
        # The first file that clashes, whichever module files the template has.
        ("sessions", None, r"would make [Ss]ession in \w+\.py"),
        ("fields", None, "would make Field in models.py"),
        ("tables", None, "would make Table in models.py"),
        ("statuses", None, "would make status in router.py"),
    ],
)
def test_a_bad_name_is_refused(project: Path, name: str, singular: str | None, reason: str):
    before = files_of(project)
    with pytest.raises(ScaffoldError, match=reason) as refusal:
        scaffold(project, name, singular)
    assert "\n" not in str(refusal.value)
    assert files_of(project) == before


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("", "fields is empty"),
        ("price", "the type must be one of"),
        ("price:money", "the type must be one of"),
        ("Price:int", "not a valid field name"),
        ("class:int", "not a valid field name"),
        ("model_config:int", "not a valid field name"),
        ("id:uuid", "'id' is reserved"),
        ("owner_id:uuid", "'owner_id' is reserved"),
        ("q:str", "'q' is reserved"),
        ("sort:str", "'sort' is reserved"),
        ("a:int a:str", "given twice"),
        ("a:int:primary", "modifiers are unique, index"),
        ("a:int:unique:unique", "each at most once"),
        ("a:str:0", "a str length must be between 1 and 10000"),
        ("a:str:10001", "a str length must be between 1 and 10000"),
        ("a:text:0", "a text length must be between 1 and 1000000"),
        ("a:text:1000001", "a text length must be between 1 and 1000000"),
        ("a:str:5=toolong", "longer than 5"),
        ("a:int=many", "is not a int"),
        ("a:bool=maybe", "is not a bool"),
        ("a:date=someday", "is not a date"),
        ("a:decimal=1.234", "2 places"),
        ("a:uuid=1", "cannot have a default"),
        ("a:datetime=2024-01-01T00:00", "cannot have a default"),
        ("a_id:ref", "a ref names the table it refers to"),
        ("a_id:ref:Orders", "a ref names the table it refers to"),
        ("a_id:ref:users=x", "a ref field cannot have a default"),
        ("a_id:ref:users:primary", "modifiers are unique, index"),
        ("a_id:ref:nowhere", "refers to nowhere, which has no table: add it first"),
        ("parent_id:ref?:sample_widgets", "refers to its own table"),
    ],
)
def test_a_bad_field_spec_is_refused(project: Path, fields: str, reason: str):
    before = files_of(project)
    with pytest.raises(ScaffoldError, match=reason):
        scaffold(project, "sample_widgets", fields=fields)
    assert files_of(project) == before


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("users", "part of the service"),
        ("auth", "part of the service"),
        ("sample_widgets", "modules/sample_widgets does not exist"),
        ("../core", "not a lower-case"),
    ],
)
def test_a_bad_removal_is_refused(project: Path, name: str, reason: str):
    before = files_of(project)
    with pytest.raises(ScaffoldError, match=reason):
        remove(project, name)
    assert files_of(project) == before


@pytest.mark.parametrize("folder", ["modules", "tests"])
def test_nothing_is_overwritten(project: Path, folder: str):
    (project / folder / "sample_widgets").mkdir()
    try:
        with pytest.raises(ScaffoldError, match=f"{folder}/sample_widgets already exists"):
            scaffold(project, "sample_widgets")
    finally:
        (project / folder / "sample_widgets").rmdir()


@pytest.mark.parametrize("name", ["orders", "pages", "changes", "categories", "filters"])
def test_a_name_the_template_uses_elsewhere_is_fine(project: Path, name: str):
    """`Page` is imported where no `Page` entity class is named, `crud.changes` is an attribute:
    no clash."""
    if (project / "modules" / name).exists():
        pytest.skip(f"this project has its own {name}")
    before = files_of(project)
    assert Path("modules", name, "router.py") in scaffold(project, name, dry_run=True)
    assert files_of(project) == before


def test_a_table_another_entity_refers_to_is_not_removed(project: Path):
    scaffold(project, "sample_notes", fields="body:str")
    scaffold(project, "sample_lines", fields="sample_note_id:ref:sample_notes")
    try:
        before = files_of(project)
        with pytest.raises(ScaffoldError, match="sample_lines refer to sample_notes: remove them first"):
            remove(project, "sample_notes")
        assert files_of(project) == before
    finally:
        remove(project, "sample_lines")
        remove(project, "sample_notes")
