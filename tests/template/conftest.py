"""Fixtures for the template tests: generate projects with the real cookiecutter CLI."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT

COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"


def run_cookiecutter(
    template: str, *answers: str, cwd: Path, output_dir: Path | None = None, home: Path
) -> subprocess.CompletedProcess[str]:
    """The CLI exactly as a user runs it; HOME is private so no user config or replay leaks in."""
    command = [str(COOKIECUTTER), "--no-input", template, *answers]
    if output_dir is not None:
        command += ["--output-dir", str(output_dir)]
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def generate(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Generate a project from the working tree with the given `key=value` answers."""
    home = tmp_path_factory.mktemp("home")

    def make(*answers: str) -> Path:
        out = tmp_path_factory.mktemp("generated")
        result = run_cookiecutter(str(ROOT), *answers, cwd=out, home=home)
        assert result.returncode == 0, result.stderr
        (project,) = (path for path in out.iterdir() if path.is_dir())
        return project

    return make
