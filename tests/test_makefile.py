"""`make` where the chosen Python is missing stops with one line that says what to do."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

PYENV_SHIM = """#!/bin/sh
echo "pyenv: $(basename "$0"): command not found" >&2
exit 127
"""


def make_in_a_copy(tmp_path: Path, *args: str, path: str) -> subprocess.CompletedProcess[str]:
    """`make` in a copy of the project's build files, without .venv, as on a fresh machine."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    # Outside `make test`'s own make: no "Entering directory" lines.
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    return subprocess.run(
        ["make", *args], cwd=tmp_path, env={**env, "PATH": path}, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("kind", ["missing", "pyenv shim that fails"])
def test_a_python_that_does_not_run_is_one_line_naming_it(tmp_path, kind):
    path = os.environ["PATH"]
    if kind != "missing":
        shims = tmp_path / "shims"
        shims.mkdir()
        (shims / "python3.99").write_text(PYENV_SHIM)
        (shims / "python3.99").chmod(0o755)
        path = f"{shims}{os.pathsep}{path}"
    project = tmp_path / "project"
    project.mkdir()
    result = make_in_a_copy(project, "test", "PYTHON=python3.99", path=path)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) == 1, lines
    assert "python3.99" in lines[0]
    assert "make PYTHON=/path/to/python3.99 test" in lines[0]
    assert not (project / ".venv").exists()


def test_help_needs_no_python(tmp_path):
    result = make_in_a_copy(tmp_path, "PYTHON=python3.99", path=os.environ["PATH"])
    assert result.returncode == 0, result.stderr
    assert "make test" in result.stdout
