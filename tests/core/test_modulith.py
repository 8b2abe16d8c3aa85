"""The module map: boundaries derived from the folders, the committed drawing of them (and of the
reference pages, tests/core/test_reference.py), and the slices of the suite one module or one
change needs."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.modulith.document import render, stale
from core.modulith.graph import CORE_SEAMS, Dependency, Kind, ModuleMap
from core.modulith.slices import changed_tests, core_tests, module_tests
from core.modulith.verify import violations
from tests.helpers import ROOT


def test_the_boundaries_hold() -> None:
    assert violations(ModuleMap.read(ROOT)) == []


def test_every_page_drawn_from_the_code_is_current() -> None:
    """The module map and the reference pages, as `make modules` draws them."""
    assert stale(ROOT) == [], "stale: run make modules"


def test_the_map_reads_what_each_module_declares() -> None:
    modules = ModuleMap.read(ROOT)
    users, auth = modules.modules["users"], modules.modules["auth"]

    # Beside the admin module, whose public surface their admin views use where the service has it.
    assert users.dependencies - {"admin"} == set()
    assert auth.dependencies - {"admin"} == {"users"}
    assert "CurrentUser" in users.public_names
    assert "UserDeactivated" in users.events
    assert {(listener.publisher, listener.event) for listener in auth.listeners} >= {
        ("users", "UserDeactivated")
    }
    assert ("POST", "/api/v1/auth/login") in auth.routes
    assert auth.tables == ["auth_sessions"]
    assert "auth.password_reset" in auth.jobs


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The code of the project, modules and core, to plant violations in."""
    for folder in ("core", "modules"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def verify(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.modulith", "verify"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )


def plant(root: Path, path: str, line: str) -> int:
    """Add `line` at the end of the file; return its line number."""
    file = root / path
    text = file.read_text() if file.exists() else ""
    file.write_text(f"{text}{line}\n")
    return len(f"{text}{line}".splitlines())


# The violations are planted in auth and users, which every service has.
def test_an_import_of_another_modules_internals_is_one_line_naming_the_public_name(copy: Path) -> None:
    line = plant(copy, "modules/auth/service.py", "from modules.users.models import User")

    result = verify(copy)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"modules/auth/service.py:{line}: auth imports User from modules.users.models, private to users; "
        "import User from modules.users.api"
    ]


def test_a_name_the_public_surface_lacks_says_where_to_add_it(copy: Path) -> None:
    line = plant(copy, "modules/auth/router.py", "from modules.users.service import change_password")

    result = verify(copy)

    assert result.stdout.splitlines() == [
        f"modules/auth/router.py:{line}: auth imports change_password from modules.users.service, "
        "private to users; users offers no change_password: add it to modules/users/api.py, or keep it out"
    ]


def test_modules_importing_each_other_are_a_cycle_one_line_per_import(copy: Path) -> None:
    plant(copy, "modules/auth/api.py", "from modules.auth.service import revoke_session")
    line = plant(copy, "modules/users/service.py", "from modules.auth.api import revoke_session")
    auth_imports_users = len(
        [found for found in ModuleMap.read(copy).modules["auth"].imports if found.module == "users"]
    )

    lines = verify(copy).stdout.splitlines()

    circle = "but auth and users depend on each other; one of them must not import the other"
    advice = "let it publish an event the other listens to"
    assert f"modules/users/service.py:{line}: users imports modules.auth.api, {circle}: {advice}" in lines
    assert len(lines) == auth_imports_users + 1  # every import making the circle, once each
    assert all(circle in text for text in lines)


def test_core_importing_a_module_is_one_line(copy: Path) -> None:
    line = plant(copy, "core/crud.py", "from modules.users.api import User")

    result = verify(copy)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"core/crud.py:{line}: core imports modules.users.api; core knows no module: "
        "find them with core.discovery, or move the code into the module"
    ]


def test_a_relative_import_is_read_as_the_module_it_names(copy: Path) -> None:
    line = plant(copy, "modules/auth/service.py", "from ..users.models import User")

    assert (
        verify(copy).stdout.splitlines()[0].startswith(f"modules/auth/service.py:{line}: auth imports User")
    )


def plant_module(root: Path, name: str, models: str) -> None:
    """A module of only `models.py` at `root`."""
    folder = root / "modules" / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "models.py").write_text(
        f"import uuid\n\nfrom sqlmodel import Field\n\nfrom core.db import Table\n\n{models}"
    )


@pytest.fixture
def entities(copy: Path) -> Path:
    """The copy, with two entities coupled to the rest by their tables alone: notes belong to a
    project, projects to a user (named apart from any entity a service has). Every module has a
    test folder."""
    plant_module(
        copy,
        "zq_projects",
        'class ZqProject(Table, table=True):\n    owner_id: uuid.UUID = Field(foreign_key="users.id")\n',
    )
    plant_module(
        copy,
        "zq_notes",
        "class ZqNote(Table, table=True):\n"
        '    __tablename__ = "zq_project_notes"\n'
        '    project_id: uuid.UUID = Field(foreign_key="zq_projects.id")\n',
    )
    for name in ModuleMap.read(copy).modules:
        (copy / "tests" / name).mkdir(parents=True, exist_ok=True)
    return copy


def test_a_foreign_key_to_another_modules_table_is_a_dependency_on_it(entities: Path) -> None:
    modules = ModuleMap.read(entities).modules

    assert modules["zq_projects"].links == [
        Dependency("users", Kind.TABLE, "zq_projects.owner_id → users.id")
    ]
    assert modules["zq_notes"].links == [
        Dependency("zq_projects", Kind.TABLE, "zq_project_notes.project_id → zq_projects.id")
    ]
    assert modules["zq_notes"].dependencies == {"zq_projects"}


def test_the_map_says_why_a_module_depends_on_another(entities: Path) -> None:
    drawn = render(ModuleMap.read(entities))

    assert "  zq_projects -->|table| users\n" in drawn
    assert "| depends on | `users` (table `zq_projects.owner_id → users.id`) |" in drawn
    assert "| used by | `zq_notes` (table) |" in drawn


def test_the_map_of_this_service_says_auth_imports_users_and_references_its_table() -> None:
    auth = ModuleMap.read(ROOT).modules["auth"]

    assert Dependency("users", Kind.IMPORT, "modules.users.api") in auth.links
    assert Dependency("users", Kind.TABLE, "auth_sessions.user_id → users.id") in auth.links


def test_an_internal_edit_runs_the_tests_of_every_module_that_depends_on_it(entities: Path) -> None:
    modules = ModuleMap.read(entities)

    selected = changed_tests(entities, modules, ["modules/users/service.py"])

    # The notes stand on users only through the projects' table, and run all the same.
    assert {"tests/users", "tests/auth", "tests/zq_projects", "tests/zq_notes"} <= set(selected)
    assert selected == module_tests(entities, sorted(["users", *modules.dependents("users")]))


def test_in_this_service_an_edit_inside_users_runs_the_tests_of_every_module_standing_on_it() -> None:
    modules = ModuleMap.read(ROOT)
    standing = ["users", *modules.dependents("users")]

    selected = changed_tests(ROOT, modules, ["modules/users/service.py"])

    # auth, and every entity an account owns, whatever else this service has.
    assert {"tests/users", "tests/auth"} <= set(selected)
    assert set(selected) == {f"tests/{name}" for name in standing if (ROOT / "tests" / name).is_dir()}


def test_an_edit_to_a_leaf_entity_runs_its_own_tests_only(entities: Path) -> None:
    # Nothing depends on the notes: out of a suite of every module's folder, one.
    modules = ModuleMap.read(entities)

    assert changed_tests(entities, modules, ["modules/zq_notes/models.py"]) == ["tests/zq_notes"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # Nothing depends on auth.
        (["modules/auth/service.py"], ["tests/auth"]),
        (["tests/auth/test_login.py"], ["tests/auth"]),
        # users changed, its surface or not: everything that depends on it runs too.
        (["modules/users/api.py"], "users and its dependents"),
        (["modules/users/service.py"], "users and its dependents"),
        (["README.md"], "core"),
        (["pyproject.toml"], ["tests"]),
        (["tests/conftest.py", "modules/auth/router.py"], ["tests"]),
        # A module's test helper: other folders' tests and the root fixtures import it.
        (["tests/auth/lifecycle.py"], ["tests"]),
        ([], []),
    ],
)
def test_a_change_runs_the_tests_of_what_it_touches(files: list[str], expected: list[str] | str) -> None:
    modules = ModuleMap.read(ROOT)
    if expected == "users and its dependents":
        expected = module_tests(ROOT, sorted(["users", *modules.dependents("users")]))
        assert "tests/auth" in expected
    if expected == "core":
        expected = core_tests(ROOT, modules)
        assert "tests/core" in expected
        assert not set(modules.modules) & {Path(path).name for path in expected}

    assert changed_tests(ROOT, modules, files) == expected


def test_a_slice_of_one_module_mounts_it_and_what_it_depends_on_only() -> None:
    # auth depends on users: its slice mounts both, and no entity.
    probe = (
        "from core.app import create_app; from tests.helpers import make_settings;"
        "print(sorted({p.split('/')[3] for p in create_app(make_settings('sqlite://')).openapi()['paths']"
        " if p.startswith('/api/v1/')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "MODULES": json.dumps(["auth"])},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "['auth', 'users']"


def without_core_seams(root: Path) -> None:
    """Fill no core seam in any manifest, and leave out the modules that install something beside
    the API, with the parts other modules hand them (`<module>.py`), as a service generated
    without them: modules that plug into nothing but each other."""
    for name, module in ModuleMap.read(root).modules.items():
        if "install" in module.seams:
            shutil.rmtree(root / "modules" / name)
            for path in (root / "modules").glob(f"*/{name}.py"):
                path.unlink()
    for path in (root / "modules").glob("*/manifest.py"):
        path.write_text("from core.manifest import Manifest\n\nmanifest = Manifest()\n")


def test_a_slice_mounts_the_modules_whose_tables_its_rows_reference(entities: Path) -> None:
    without_core_seams(entities)

    assert ModuleMap.read(entities).slice(["zq_notes"]) == ["users", "zq_notes", "zq_projects"]


def test_every_slice_mounts_the_module_that_offers_what_core_stands_on(copy: Path) -> None:
    without_core_seams(copy)
    for seam in CORE_SEAMS:
        gate = copy / f"modules/gate_{seam}"
        gate.mkdir()
        (gate / "__init__.py").write_text("")
        (gate / "manifest.py").write_text(
            f"from core.manifest import Manifest\n\nmanifest = Manifest({seam}=None)\n"
        )
    modules = ModuleMap.read(copy)

    gates = [f"gate_{seam}" for seam in CORE_SEAMS]
    assert not set(gates) & set(modules.closure(["users"]))
    assert modules.slice(["users"]) == sorted({*modules.closure(["users"]), *gates})
