"""The module map: boundaries derived from the folders, the committed drawing of them, and the
slices of the suite one module or one change needs."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.modulith.document import DOCUMENT, render
from core.modulith.graph import ModuleMap
from core.modulith.slices import changed_tests, core_tests
from core.modulith.verify import violations
from tests.helpers import ROOT


def test_the_boundaries_hold() -> None:
    assert violations(ModuleMap.read(ROOT)) == []


def test_the_committed_module_map_is_current() -> None:
    assert (ROOT / DOCUMENT).read_text() == render(ModuleMap.read(ROOT)), "stale: run make modules"


def test_the_map_reads_what_each_module_declares() -> None:
    modules = ModuleMap.read(ROOT)
    users, auth = modules.modules["users"], modules.modules["auth"]

    assert users.dependencies == set()
    assert auth.dependencies == {"users"}
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


def test_an_import_of_another_modules_internals_is_one_line_naming_the_public_name(copy: Path) -> None:
    line = plant(copy, "modules/items/service.py", "from modules.users.models import User")

    result = verify(copy)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"modules/items/service.py:{line}: items imports User from modules.users.models, private to users; "
        "import User from modules.users.api"
    ]


def test_a_name_the_public_surface_lacks_says_where_to_add_it(copy: Path) -> None:
    line = plant(copy, "modules/items/router.py", "from modules.users.service import change_password")

    result = verify(copy)

    assert result.stdout.splitlines() == [
        f"modules/items/router.py:{line}: items imports change_password from modules.users.service, "
        "private to users; users offers no change_password: add it to modules/users/api.py, or keep it out"
    ]


def test_modules_importing_each_other_are_a_cycle_one_line_per_import(copy: Path) -> None:
    plant(copy, "modules/items/api.py", "from modules.items.service import create_item")
    line = plant(copy, "modules/users/service.py", "from modules.items.api import create_item")

    lines = verify(copy).stdout.splitlines()

    assert (
        f"modules/users/service.py:{line}: users imports modules.items.api, but items and users depend on"
        in (lines[-1])
    )
    assert len(lines) == 3  # items' two imports of users' api, and users' of items'
    assert all("depend on each other" in text and "publish an event" in text for text in lines)


def test_core_importing_a_module_is_one_line(copy: Path) -> None:
    line = plant(copy, "core/crud.py", "from modules.users.api import User")

    result = verify(copy)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"core/crud.py:{line}: core imports modules.users.api; core knows no module: "
        "find them with core.discovery, or move the code into the module"
    ]


def test_a_relative_import_is_read_as_the_module_it_names(copy: Path) -> None:
    line = plant(copy, "modules/items/service.py", "from ..users.models import User")

    assert (
        verify(copy).stdout.splitlines()[0].startswith(f"modules/items/service.py:{line}: items imports User")
    )


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["modules/items/service.py"], ["tests/items"]),
        (["tests/items/test_items.py"], ["tests/items"]),
        # users' public surface changed: everything that depends on users runs too.
        (["modules/users/api.py"], ["tests/auth", "tests/items", "tests/users"]),
        (["modules/users/service.py"], ["tests/users"]),
        (["README.md"], "core"),
        (["pyproject.toml"], ["tests"]),
        (["tests/conftest.py", "modules/items/router.py"], ["tests"]),
        ([], []),
    ],
)
def test_a_change_runs_the_tests_of_what_it_touches(files: list[str], expected: list[str] | str) -> None:
    modules = ModuleMap.read(ROOT)
    if expected == "core":
        expected = core_tests(ROOT, modules)
        assert "tests/core" in expected
        assert not {"tests/items", "tests/users", "tests/auth"} & set(expected)

    assert changed_tests(ROOT, modules, files) == expected


def test_a_slice_of_one_module_mounts_it_and_what_it_depends_on_only() -> None:
    probe = (
        "from core.app import create_app; from tests.helpers import make_settings;"
        "print(sorted({p.split('/')[3] for p in create_app(make_settings('sqlite://')).openapi()['paths']"
        " if p.startswith('/api/v1/')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "MODULES": json.dumps(["items"])},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "['items', 'users']"
