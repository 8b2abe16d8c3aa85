"""Each answer, and the answers that interact, give a project whose own suite passes.

The generated suites run with the root's .venv (Python 3.11) to keep the time down; other
Python versions run with a virtualenv of their own, made once and kept in ~/.cache.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from tests.helpers import require_server

RUFF = Path(sys.executable).parent / "ruff"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

VARIANTS = {
    "defaults": [],
    "postgresql": ["database=postgresql"],
    "redis": ["rate_limit_storage=redis"],
    "closed-registration": ["open_registration=no"],
    "sqlite-no-docker": ["database=sqlite", "use_docker=no"],
    "postgresql-redis": ["database=postgresql", "rate_limit_storage=redis"],
    "python-3.12": ["python_version=3.12"],
    "python-3.13": ["python_version=3.13", "database=postgresql", "use_docker=no"],
    "no-entities": ["entities="],
    "several-entities": ["entities=items, notes, order_lines"],
}


def interpreter(version: str) -> str | None:
    """A Python of that version: this one, one installed by pyenv, or one on PATH.

    pyenv's own versions come before PATH, whose `pythonX.Y` may be a pyenv shim that only
    works where that version is selected."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))
    if pyenv:
        return str(pyenv[-1])
    found = shutil.which(f"python{version}")
    return found if found and "/shims/" not in found else None


def virtualenv_for(version: str, project: Path) -> Path:
    """A venv with the project's pinned dev dependencies, cached by version and lock."""
    python = interpreter(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed here (pyenv install {version} to test it)")
    if python == sys.executable:
        return Path(sys.executable)
    lock = (project / "requirements.lock").read_bytes() + (project / "pyproject.toml").read_bytes()
    venv = (
        Path.home() / ".cache" / "fastapi-modulith" / f"py{version}-{hashlib.sha256(lock).hexdigest()[:12]}"
    )
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin/python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-c",
                "requirements.lock",
                ".[dev]",
            ],
            cwd=project,
            check=True,
            timeout=600,
        )
        (venv / ".installed").touch()
    return venv / "bin/python"


def postgres_available() -> bool:
    engine = create_engine(POSTGRES_URL)
    try:
        engine.connect().close()
    except OperationalError:
        return False
    finally:
        engine.dispose()
    return True


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_project_passes_its_own_checks(generate, variant):
    answers = VARIANTS[variant]
    project = generate(*answers)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    version = pyproject["tool"]["mypy"]["python_version"]
    assert pyproject["project"]["requires-python"] == f">={version}"

    for check in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([str(RUFF), *check], cwd=project, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr

    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    if "database=postgresql" in answers:
        if not postgres_available():
            require_server(f"PostgreSQL at {POSTGRES_URL} does not answer")
        env["TEST_DATABASE_URL"] = POSTGRES_URL
    python = virtualenv_for(version, project)
    # The slow system tests (many processes, many generations) run once, in the defaults.
    selection = [] if variant == "defaults" else ["-m", "not slow"]
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *selection],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert " passed" in result.stdout.splitlines()[-1]
