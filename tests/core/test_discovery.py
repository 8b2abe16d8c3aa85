"""Discovery: every folder under modules/ is a feature, mounted by name with no other edit."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter

from core import discovery
from core.config import Settings
from core.db import Table, metadata
from tests.helpers import ROOT

WIDGETS_MANIFEST = """from core.manifest import Manifest
from modules.widgets.router import router

manifest = Manifest(router=router)
"""

WIDGETS_ROUTER = """from fastapi import APIRouter

router = APIRouter()


@router.get("")
def list_widgets() -> list[str]:
    return []
"""

PRINT_PATHS = """
import json
from core.app import create_app
app = create_app()
schema = app.openapi()
print(json.dumps({path: {m: op["tags"] for m, op in ops.items()} for path, ops in schema["paths"].items()}))
"""


def feature_folders(containing: str = "__init__.py") -> list[str]:
    """The packages under modules/ on disk (with `containing` in them), sorted: what discovery must find."""
    return sorted(
        path.name
        for path in (ROOT / "modules").iterdir()
        if (path / "__init__.py").is_file() and (path / containing).is_file()
    )


def test_module_names_are_the_feature_folders_sorted() -> None:
    names = discovery.module_names()

    assert names == feature_folders()
    assert {"auth", "users"} <= set(names)


def test_routers_are_found_for_every_module_with_a_router() -> None:
    found = discovery.routers()

    assert [feature.name for feature in found] == feature_folders("router.py")
    assert set(feature_folders("router.py")) <= set(feature_folders("manifest.py"))
    assert {"auth", "users"} <= {feature.name for feature in found}
    assert all(isinstance(feature.router, APIRouter) for feature in found)


def test_import_models_registers_every_table() -> None:
    discovery.import_models()

    tables = set(metadata().tables)
    assert {"users", "auth_sessions"} <= tables
    for name in feature_folders("models.py"):
        models = sys.modules[f"modules.{name}.models"]
        declared = {
            model.__table__.name
            for model in vars(models).values()
            if isinstance(model, type)
            and issubclass(model, Table)
            and model.__module__ == models.__name__
            and hasattr(model, "__table__")
        }
        assert declared <= tables, name


@pytest.fixture
def fake_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package `fake_modules` in place of `modules`: one feature with a router, one without."""
    package = tmp_path / "fake_modules"
    (package / "with_router").mkdir(parents=True)
    (package / "models_only").mkdir()
    (package / "__init__.py").write_text("")
    (package / "not_a_module.py").write_text("")
    (package / "with_router" / "__init__.py").write_text("")
    (package / "with_router" / "manifest.py").write_text(
        "from fastapi import APIRouter\n\nfrom core.manifest import Manifest\n\n"
        "manifest = Manifest(router=APIRouter())\n"
    )
    (package / "models_only" / "__init__.py").write_text("")
    (package / "models_only" / "models.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(discovery, "PACKAGE", "fake_modules")
    yield package
    for name in [name for name in sys.modules if name.startswith("fake_modules")]:
        del sys.modules[name]


def test_only_sub_packages_are_modules(fake_modules: Path) -> None:
    assert discovery.module_names() == ["models_only", "with_router"]


def test_a_module_without_a_router_is_not_mounted(fake_modules: Path) -> None:
    assert [feature.name for feature in discovery.routers()] == ["with_router"]


def test_import_parts_imports_the_file_of_each_module_that_has_one(fake_modules: Path) -> None:
    found = discovery.import_parts("models")
    assert list(found) == ["models_only"]
    assert found["models_only"].LOADED is True


@pytest.mark.parametrize(
    ("manifest", "refusal"),
    [
        ("manifest = Manifest(router='/widgets')", "router is a str, not an APIRouter"),
        (
            "manifest = Manifest(mounted_under='parents/{parent_id}/')",
            "mounted_under 'parents/{parent_id}/' must",
        ),
        ("manifest = Manifest(settings=dict)", "settings is not a ModuleSettings class"),
        ("manifest = Manifest(jobs=('send',))", "jobs holds 'send', which is not a function"),
        ("manifest = Manifest(caller='accounts')", "caller is not a core.access.Accounts"),
        ("manifest = Manifest(sign_in='login')", "sign_in 'login' must start with /"),
        ("manifest = {'router': None}", "manifest is not a core.manifest.Manifest"),
    ],
)
def test_a_wrong_manifest_stops_the_app_with_one_line_naming_module_and_field(
    fake_modules: Path, manifest: str, refusal: str
) -> None:
    (fake_modules / "models_only" / "manifest.py").write_text(
        f"from core.manifest import Manifest\n\n{manifest}\n"
    )

    with pytest.raises(SystemExit) as stopped:
        discovery.routers()

    assert str(stopped.value).startswith(f"modules/models_only/manifest.py: {refusal}")
    assert "\n" not in str(stopped.value)


def test_the_accounts_are_declared_by_one_module(fake_modules: Path) -> None:
    with pytest.raises(SystemExit, match="caller must be declared by one module, not by none"):
        discovery.caller()


def test_the_token_url_is_the_declaring_modules_route() -> None:
    assert discovery.sign_in_url() == "/api/v1/auth/login"


def test_a_job_its_manifest_leaves_out_stops_the_app_naming_it(fake_modules: Path) -> None:
    (fake_modules / "models_only" / "jobs.py").write_text(
        "def render(payload, context):\n    pass\n\n\ndef _helper():\n    pass\n"
    )
    (fake_modules / "models_only" / "manifest.py").write_text(
        "from core.manifest import Manifest\n\nmanifest = Manifest()\n"
    )

    with pytest.raises(SystemExit) as stopped:
        discovery.manifests()

    assert (
        str(stopped.value)
        == "modules/models_only/manifest.py: jobs leaves out render of jobs.py: name each there"
    )


def test_import_models_imports_the_models_that_exist(fake_modules: Path) -> None:
    discovery.import_models()

    assert sys.modules["fake_modules.models_only.models"].LOADED is True
    assert "fake_modules.with_router.models" not in sys.modules


def copy_project(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("core", "modules", "migrations"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    for file in ("alembic.ini", "pyproject.toml"):
        shutil.copy(ROOT / file, target / file)


def test_a_new_module_folder_is_mounted_with_no_other_edit(tmp_path: Path) -> None:
    copy_project(tmp_path)
    widgets = tmp_path / "modules" / "widgets"
    widgets.mkdir()
    (widgets / "__init__.py").write_text('"""Widgets."""\n')
    (widgets / "router.py").write_text(WIDGETS_ROUTER)
    (widgets / "manifest.py").write_text(WIDGETS_MANIFEST)
    env = {key: value for key, value in os.environ.items() if key not in Settings.model_fields}
    env.pop("PYTHONPATH", None)

    result = subprocess.run(
        [sys.executable, "-c", PRINT_PATHS],
        cwd=tmp_path,
        env={**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    paths = json.loads(result.stdout)
    assert paths["/api/v1/widgets"] == {"get": ["widgets"]}
    assert paths["/api/v1/users/me"]["get"] == ["users"]
