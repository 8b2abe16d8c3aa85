"""What the entity template writes is laid out by the project's own ruff; without ruff the scaffold
refuses in one line, having written nothing."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.scaffold.helpers import child_env, copy_project, files_of, run, run_tool

# Every field type, every modifier and every kind of reference at least once.
ALL_FIELDS = (
    "sku:str:40:unique quantity:int=1 price:decimal note:text? shipped_on:date? paid_at:datetime?"
    " weight:float:index is_gift:bool=false ref:uuid?:unique:index label:str?=new due:date=2030-01-01"
    " rank:int:index code:str:8?:index ratio:float?=0.5 fee:decimal?=1.50 body:text:20000=none"
    " account_id:ref:users reviewer_id:ref?:users"
)


def without_tools(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """An interpreter in a folder of its own, with this run's packages but no ruff beside it or
    on PATH, nor importable: a machine where `make install` has not run."""
    home = tmp_path / "bare"
    home.mkdir()
    python = home / "python"
    python.symlink_to(
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    # This run's packages, less ruff's (its folder and its dist-info).
    packages = tmp_path / "packages"
    packages.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.split("-")[0] != "ruff":
            (packages / entry.name).symlink_to(entry)
    env = {**child_env(), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(packages)}
    env.pop("VIRTUAL_ENV", None)
    return str(python), env


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("sample_order_lines", ["--fields", ALL_FIELDS]),
        ("sample_people", ["--singular", "sample_person", "--owned", "no", "--fields", ALL_FIELDS]),
    ],
)
def test_what_it_writes_passes_the_projects_lint(tmp_path: Path, name: str, args: list[str]):
    project = copy_project(tmp_path / "project")
    written = [
        line.removeprefix("write ")
        for line in run(project, "-m", "scaffold", "add", name, *args).stdout.splitlines()
        if line.startswith("write ")
    ]
    python_files = [path for path in written if path.endswith(".py") and not path.startswith("migrations")]
    run_tool(project, "ruff", "check", "--no-cache", *python_files)
    run_tool(project, "ruff", "format", "--check", "--no-cache", *python_files)


def test_without_ruff_it_refuses_in_one_line(tmp_path: Path):
    project = copy_project(tmp_path / "project")
    python, env = without_tools(tmp_path)
    probe = subprocess.run(
        [python, "-c", "import importlib.util, jinja2; print(importlib.util.find_spec('ruff'))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "None"
    before = files_of(project)

    result = subprocess.run(
        [python, "-m", "scaffold", "add", "sample_notes"],
        cwd=project,
        env={**env, "PYTHONPATH": f"{project}{os.pathsep}{env['PYTHONPATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"scaffold: error: ruff is not installed for {python}: run make install first\n"
    assert files_of(project) == before
