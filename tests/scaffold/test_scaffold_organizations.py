"""The scaffold's entities of an organization's (`--owned org`), end to end in a copy of the
project: rendered clean, typed, their own tests passing (the role matrix among them) and their
revisions round-tripping. A service generated with tenancy=user has none of it, nor this test."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scaffold.entities import parse_entities
from scaffold.names import ScaffoldError
from scaffold.ownership import Ownership
from tests.scaffold.helpers import ROUND_TRIP, copy_project, run, run_tool

ENTITIES = [
    ("sample_invoices", "number:str:20:unique amount:decimal paid:bool=false"),
    # A reference inside the organization: another organization's invoice is refused.
    ("sample_invoice_lines", "sample_invoice_id:ref:sample_invoices label:str:40:unique quantity:int"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("project"))
    for name, fields in ENTITIES:
        run(project, "-m", "scaffold", "add", name, "--owned", "org", "--fields", fields)
    return project


def test_an_organizations_entity_is_scoped_to_it(project: Path):
    module = project / "modules/sample_invoices"
    models = " ".join((module / "models.py").read_text().split())
    assert 'organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")' in models
    assert 'UniqueConstraint("number", "organization_id")' in models
    assert 'Index("ix_sample_invoices_organization_id_created_at", "organization_id", "created_at")' in models
    assert "owner_id" not in "".join(path.read_text() for path in module.glob("*.py"))
    router = (module / "router.py").read_text()
    assert "mounted_under=IN_ORGANIZATION" in (module / "manifest.py").read_text()
    assert "member: Writer" in router
    assert router.count(": SampleInvoiceInOrganization") == 3


def test_the_copy_passes_lint_and_type_checks(project: Path):
    run_tool(project, "ruff", "check", ".")
    run_tool(project, "ruff", "format", "--check", ".")
    run_tool(project, "mypy")


def test_the_new_modules_tests_pass(project: Path):
    tests = [f"tests/{name}" for name, _ in ENTITIES]
    result = run(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests)
    assert " passed" in result.stdout, result.stdout
    assert "skipped" not in result.stdout, result.stdout


def test_the_migrations_round_trip(project: Path, make_database_url: Callable[[], Iterator[str]]):
    databases = make_database_url()
    try:
        run(project, "-c", ROUND_TRIP, next(databases))
    finally:
        databases.close()


def test_owned_org_needs_the_organizations_module(tmp_path: Path):
    project = copy_project(tmp_path)
    shutil.rmtree(project / "modules/organizations")
    result = run(project, "-m", "scaffold", "add", "sample_invoices", "--owned", "org", check=False)
    assert result.returncode == 2
    assert result.stderr == (
        "scaffold: error: owned=org needs the organizations table, which this project has not\n"
    )


def test_a_reference_never_crosses_from_one_kind_of_owner_to_another(project: Path):
    # An account's row naming an organization's could name any organization's: nothing to check it by.
    result = run(
        project, "-m", "scaffold", "add", "sample_notes", "--fields", "sample_invoice_id:ref:sample_invoices",
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "refers to sample_invoices, whose rows are owned=org, from rows owned=yes" in result.stderr
    assert not (project / "modules/sample_notes").exists()
    with pytest.raises(ScaffoldError, match="refers to notes, whose rows are owned=yes, from rows owned=org"):
        parse_entities(
            "notes(title:str owned=yes), tasks(note_id:ref:notes)",
            existing={"users"},
            default=Ownership.ORGANIZATION,
        )
