"""The scaffold end to end, in a copy of the project: entities are added and removed with the
command, around a team's edits to items and after items is gone; then the copy's own tools,
the new modules' tests and the migrations must all pass (on PostgreSQL too, with
TEST_DATABASE_URL). The names start with `sample_` so they never meet a real entity."""

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.modulith.document import render
from core.modulith.graph import ModuleMap
from scaffold import referred_to_by
from tests.helpers import ROOT
from tests.scaffold.helpers import ROUND_TRIP, copy_project, files_of, run, run_tool
from tests.scaffold.test_scaffold_render import ALL_FIELDS

OPENAPI = """
from core.app import create_app
from tests.helpers import make_settings
app = create_app(make_settings("sqlite://"))
for path, operations in app.openapi()["paths"].items():
    for operation in operations.values():
        print(path, operation["tags"][0], operation["operationId"])
"""


def scaffold(root: Path, *args: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    result = run(root, "-m", "scaffold", *args)
    elapsed = time.perf_counter() - started
    return result.stdout.splitlines(), elapsed


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("project"))


def edit_items(project: Path) -> None:
    """What a team does to its own items: other words, another field rule, another comment.
    A service generated without items has nothing to edit."""
    if not (project / "modules/items").is_dir():
        return
    router = project / "modules/items/router.py"
    router.write_text(router.read_text().replace("sees everyone's", "sees every account's"))
    schemas = project / "modules/items/schemas.py"
    schemas.write_text(schemas.read_text().replace("max_length=200", "max_length=150"))
    models = project / "modules/items/models.py"
    models.write_text(
        models.read_text().replace(
            "    is_completed: bool = False\n", "    is_completed: bool = False\n    # Ours now.\n"
        )
    )


@pytest.fixture(scope="module")
def scaffolded(project: Path) -> Iterator[dict[str, float]]:
    """Edit items, add entities (related ones among them), remove one from the middle of the
    chain and then items itself, and add a last one. Yields how long each command took."""
    edit_items(project)
    timings = {}
    for name, args in [
        ("sample_notes", ["add", "sample_notes"]),
        ("sample_drafts", ["add", "sample_drafts"]),
        ("sample_tags", ["add", "sample_tags", "--owned", "no", "--fields", "name:str:40:unique"]),
        ("sample_orders", ["add", "sample_orders", "--fields", "number:str:20:unique placed_on:date?"]),
        (
            "sample_order_notes",
            ["add", "sample_order_notes", "--fields", "sample_order_id:ref:sample_orders body:text"],
        ),
        (
            "sample_order_lines",
            [
                "add",
                "sample_order_lines",
                "--fields",
                f"{ALL_FIELDS} order_id:ref:sample_orders tag_id:ref?:sample_tags",
            ],
        ),
        ("remove sample_drafts", ["remove", "sample_drafts"]),
        ("remove items", ["remove", "items"]),
        ("sample_people", ["add", "sample_people", "--singular", "sample_person", "--owned", "no"]),
    ]:
        # A service may have no items, or entities of its own that refer to them.
        if name == "remove items" and (
            not (project / "modules/items").is_dir() or referred_to_by(project, "items")
        ):
            continue
        _, timings[name] = scaffold(project, *args)
    add_the_listening_example(project)
    yield timings
    print("scaffold timings (s):", {k: round(v, 2) for k, v in timings.items()})


def add_the_listening_example(project: Path) -> None:
    """docs/examples/order_notes/, the second module reacting to the first (docs/entities.md):
    its listener, manifest and test, each copied where its first line says, as a team copies
    them, for sample_orders and sample_order_notes."""
    for example in sorted((ROOT / "docs/examples/order_notes").glob("*.py")):
        first, block = example.read_text().split("\n", 1)
        assert first.startswith("# "), (example, first)
        path = first.removeprefix("# ")
        assert path.endswith(f"/{example.name}"), (example, first)
        for ours, sample in (
            ("order_notes", "sample_order_notes"),
            ("order_id", "sample_order_id"),
            ("orders", "sample_orders"),
            ("OrderNote", "SampleOrderNote"),
            ("OrderCreated", "SampleOrderCreated"),
        ):
            block, path = block.replace(ours, sample), path.replace(ours, sample)
        (project / path).write_text(block)


def test_a_scaffold_writes_the_module_its_tests_and_a_revision(project: Path, scaffolded):
    for name in ("sample_notes", "sample_order_lines", "sample_people"):
        assert (project / "modules" / name / "router.py").is_file()
        assert list((project / "tests" / name).glob("test_*.py"))
        assert list((project / "migrations/versions").glob(f"*-add_{name}.py"))
    assert scaffolded["sample_order_lines"] < 10


def test_names_take_every_form(project: Path, scaffolded):
    models = (project / "modules/sample_order_lines/models.py").read_text()
    assert "class SampleOrderLineBase(SQLModel):" in models
    assert "class SampleOrderLine(SampleOrderLineBase, Table, table=True):" in models
    service = (project / "modules/sample_order_lines/service.py").read_text()
    assert "sample_order_line_in: SampleOrderLineCreate" in service
    router = (project / "modules/sample_order_lines/router.py").read_text()
    assert "async def list_sample_order_lines(sample_order_lines: SampleOrderLineList)" in router
    dependencies = (project / "modules/sample_notes/dependencies.py").read_text()
    assert "OwnedSampleNote = Annotated[SampleNote, crud.scoped(SampleNote, OWNED)]" in dependencies
    assert (
        (project / "modules/sample_notes/__init__.py").read_text().startswith('"""Sample notes: owner-scoped')
    )
    # An irregular plural keeps its table name explicitly.
    assert '__tablename__ = "sample_people"' in (project / "modules/sample_people/models.py").read_text()
    assert "item" not in "".join(
        p.read_text().lower()
        for name in ("sample_notes", "sample_order_lines", "sample_people")
        for p in (project / "modules" / name).glob("*.py")
    )


def test_references_and_per_owner_rules_reach_the_table(project: Path, scaffolded):
    # Long field lines are split one argument a line: compare with the whitespace folded.
    models = " ".join((project / "modules/sample_order_lines/models.py").read_text().split())
    assert (
        'order_id: uuid.UUID = Field(foreign_key="sample_orders.id", ondelete="CASCADE", index=True)'
        in models
    )
    assert 'foreign_key="sample_tags.id", ondelete="SET NULL", index=True' in models
    assert 'UniqueConstraint("sku", "owner_id")' in models
    assert 'Index("ix_sample_order_lines_owner_id_created_at", "owner_id", "created_at")' in models
    # Reference data stays unique across everyone.
    assert "unique=True" in (project / "modules/sample_tags/models.py").read_text()
    (revision,) = (project / "migrations/versions").glob("*-add_sample_order_lines.py")
    assert 'ondelete="SET NULL"' in revision.read_text()


def test_a_new_entity_comes_from_the_template_not_from_the_edited_example(project: Path, scaffolded):
    notes = project / "modules/sample_notes"
    assert "sees everyone's" in (notes / "router.py").read_text()
    assert "max_length=200" in (notes / "schemas.py").read_text()
    assert "# Ours now." not in (notes / "models.py").read_text()


def test_reference_data_has_no_owner_and_superuser_writes(project: Path, scaffolded):
    module = project / "modules/sample_people"
    assert "owner_id" not in "".join(p.read_text() for p in module.glob("*.py"))
    router = (module / "router.py").read_text()
    assert router.count("_admin: CurrentSuperuser") == 3
    # A list's and a read's dependencies check the caller's standing.
    assert "CurrentCaller" not in router
    assert "sample_people: SamplePersonList" in router
    assert "sample_person: SamplePersonById" in router


def test_removal_takes_module_tests_and_revision_and_relinks_the_chain(project: Path, scaffolded):
    assert not (project / "modules/sample_drafts").exists()
    assert not (project / "tests/sample_drafts").exists()
    assert not list((project / "migrations/versions").glob("*-add_sample_drafts.py"))
    if not referred_to_by(project, "items"):  # kept where the service's own entities refer to it
        assert not (project / "modules/items").exists()
        assert not (project / "tests/items").exists()
        assert not (project / "migrations/versions/add_items.py").exists()
    versions = project / "migrations/versions"

    def ids(path: Path) -> tuple[str, str | None]:
        found = dict(re.findall(r"^(revision|down_revision)\b.*= ['\"]?(\w+)", path.read_text(), re.M))
        return found["revision"], None if found["down_revision"] == "None" else found["down_revision"]

    chain = dict(ids(path) for path in versions.glob("*.py"))
    # One line of revisions: every parent exists, and no two revisions share one.
    assert set(chain.values()) - {None} <= set(chain)
    assert len(set(chain.values())) == len(chain)
    (notes,) = versions.glob("*-add_sample_notes.py")
    (tags,) = versions.glob("*-add_sample_tags.py")
    assert ids(tags)[1] == ids(notes)[0]


def test_the_second_module_hears_the_first_through_its_events_alone(project: Path, scaffolded):
    listeners = (project / "modules/sample_order_notes/listeners.py").read_text()
    assert "from modules.sample_orders.events import SampleOrderCreated" in listeners
    module_map = run(project, "-m", "core.modulith", "document").stdout
    assert module_map == "wrote docs/modules.md\n"
    drawn = (project / "docs/modules.md").read_text()
    assert "sample_orders -. SampleOrderCreated .-> sample_order_notes" in drawn


def test_adding_and_removing_an_entity_redraw_the_module_map(project: Path, scaffolded):
    # The example's listener was added by hand, so the map is drawn by hand first, as its user would.
    run(project, "-m", "core.modulith", "document")
    module_map = project / "docs/modules.md"
    before = module_map.read_text()

    lines, _ = scaffold(project, "add", "sample_invoices", "--fields", "sample_order_id:ref:sample_orders")
    added, drawn = module_map.read_text(), render(ModuleMap.read(project))
    removed, _ = scaffold(project, "remove", "sample_invoices")

    assert "| tables | `sample_invoices` |" in added
    assert added == drawn
    assert module_map.read_text() == before
    assert lines[-2:] == [
        "write docs/modules.md",
        "next: make migrate to create the table, make test to run its tests",
    ]
    assert removed[-1] == "write docs/modules.md"


def test_the_copy_passes_lint_and_type_checks(project: Path, scaffolded):
    run_tool(project, "ruff", "check", ".")
    run_tool(project, "ruff", "format", "--check", ".")
    run_tool(project, "mypy")
    run_tool(project, "python", "-m", "core.modulith", "verify")


def test_routes_tags_and_operation_ids(project: Path, scaffolded):
    lines = set(run(project, "-c", OPENAPI).stdout.splitlines())
    assert "/api/v1/sample_order_lines sample-order-lines sample-order-lines-create" in lines
    assert (
        "/api/v1/sample_order_lines/{sample_order_line_id} sample-order-lines sample-order-lines-update"
        in lines
    )
    assert "/api/v1/sample_notes sample-notes sample-notes-list" in lines
    assert "/api/v1/sample_people/{sample_person_id} sample-people sample-people-delete" in lines
    assert not any("/api/v1/items" in line for line in lines)


def test_the_new_modules_tests_pass(project: Path, scaffolded):
    # The database follows this run's: SQLite, or PostgreSQL when TEST_DATABASE_URL is set.
    result = run(
        project,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/sample_notes",
        "tests/sample_tags",
        "tests/sample_orders",
        "tests/sample_order_notes",
        "tests/sample_order_lines",
        "tests/sample_people",
    )
    assert " passed" in result.stdout, result.stdout
    assert "skipped" not in result.stdout, result.stdout


def test_the_migrations_round_trip(project: Path, scaffolded, make_database_url: Callable[[], Iterator[str]]):
    databases = make_database_url()
    url = next(databases)
    try:
        run(project, "-c", ROUND_TRIP, url)
    finally:
        databases.close()


def test_dry_run_lists_and_writes_nothing(project: Path, scaffolded):
    before = files_of(project)
    lines, _ = scaffold(project, "add", "sample_invoices", "--fields", "number:str:20:unique", "--dry-run")
    assert "would write modules/sample_invoices/models.py" in lines
    assert "would write tests/sample_invoices/test_sample_invoices.py" in lines
    assert any(
        line.startswith("would write migrations/versions/") and line.endswith("-add_sample_invoices.py")
        for line in lines
    )
    assert lines[-1] == "would write docs/modules.md"
    lines, _ = scaffold(project, "remove", "sample_notes", "--dry-run")
    assert lines == ["would remove modules/sample_notes", "would remove tests/sample_notes", *lines[2:]]
    assert lines[-1] == "would write docs/modules.md"
    assert files_of(project) == before


def test_a_refusal_is_one_line_with_exit_code_2(project: Path, scaffolded):
    before = files_of(project)
    for args in (["add", "sample_notes"], ["add", "ok", "--fields", "x:money"], ["add"], ["remove", "users"]):
        result = run(project, "-m", "scaffold", *args, check=False)
        assert result.returncode == 2, result
        assert result.stdout == "", result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("scaffold: error: ")
        assert "Traceback" not in result.stderr
    assert files_of(project) == before
