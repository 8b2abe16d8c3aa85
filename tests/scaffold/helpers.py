"""A throwaway copy of the project for the scaffold to write into, and ways to run things there."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

# `hooks` is there only in the template's root, whose mypy settings name it.
COPIED = [
    "core",
    "modules",
    "tests",
    "migrations",
    "scaffold",
    "hooks",
    "alembic.ini",
    "pyproject.toml",
    "Makefile",
    "docs",  # the module map the scaffold redraws
]
IGNORED = shutil.ignore_patterns("__pycache__", ".venv", "data", "*.db", ".pytest_cache", ".mypy_cache")

# Upgrade, compare models with the database (autogenerate finds nothing), downgrade, upgrade.
ROUND_TRIP = """
import sys
from alembic import command
from sqlalchemy import create_engine
from tests.helpers import alembic_config
engine = create_engine(sys.argv[1])
config = alembic_config(engine)
command.upgrade(config, "head")
command.check(config)
command.downgrade(config, "base")
command.upgrade(config, "head")
engine.dispose()
"""


def copy_project(destination: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        else:
            shutil.copy2(source, destination / name)
    # mypy's cache from this run's `make lint`, if there is one: checking the copy then takes a
    # second instead of half a minute. Copied without its timestamps, or mypy ignores it.
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", destination / ".mypy_cache", copy_function=shutil.copy)
    return destination


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def child_env() -> dict[str, str]:
    """The environment for a process in the copy, without the coverage hooks of this run."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}


def run(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python <args>` in the copy, with this run's interpreter (the project's .venv)."""
    result = subprocess.run(
        [sys.executable, *args], cwd=root, env=child_env(), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_tool(root: Path, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A tool from this run's .venv (ruff, mypy), in the copy."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / tool), *args],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{tool} {args}:\n{result.stdout}\n{result.stderr}"
    return result
