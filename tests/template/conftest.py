"""Fixtures for the template tests: generate projects with the real cookiecutter CLI, as users do.

Cookiecutter runs from a venv of its own that holds nothing but cookiecutter (made once and
kept in ~/.cache), with a PATH that has nothing of this repository's .venv on it: a generation
that quietly leaned on ruff, mypy or the project's packages would pass here and fail for users.
"""

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from tests.helpers import ROOT

COOKIECUTTER_VERSION = "2.7.1"
CACHE = Path.home() / ".cache" / "fastapi-modulith"
COOKIECUTTER_VENV = CACHE / f"cookiecutter-{COOKIECUTTER_VERSION}"
COOKIECUTTER = COOKIECUTTER_VENV / "bin" / "cookiecutter"
# HOME is private to each run, but uv's cache stays the machine's, as for a user's next project.
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "uv"
)
# One line per template variant (and make run), shown in the terminal summary.
TEMPLATE_TIMES: list[str] = []


# The server the PostgreSQL variants and updates use (CI's, when it names one).
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    engine = create_engine(POSTGRES_URL)
    try:
        engine.connect().close()
    except OperationalError:
        return False
    finally:
        engine.dispose()
    return True


# The environment this run started with. Variants run in threads beside the other tests, so what
# a test sets for itself (monkeypatch.setenv) must never reach a variant's shell: they start from
# this copy, taken before any test ran.
SHELL = dict(os.environ)


def clean_path() -> str:
    """PATH without this run's .venv (nor any other activated venv): what a user's shell has."""
    ours = {Path(sys.executable).parent.resolve(), (ROOT / ".venv" / "bin").resolve()}
    if SHELL.get("VIRTUAL_ENV"):
        ours.add((Path(SHELL["VIRTUAL_ENV"]) / "bin").resolve())
    kept = [entry for entry in SHELL.get("PATH", "").split(os.pathsep) if entry]
    return os.pathsep.join(entry for entry in kept if Path(entry).resolve() not in ours)


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell: private HOME (no user config or replay leaks in), no
    venv on PATH, nothing that points Python at this repository."""
    env = {
        key: value
        for key, value in SHELL.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
        # This run's coverage hooks would follow the command into the user's project.
        and not key.startswith(("COVERAGE_", "COV_CORE_"))
    }
    env.update(PATH=clean_path(), HOME=str(home), UV_CACHE_DIR=UV_CACHE)
    env.update(extra)
    return env


def ensure_cookiecutter() -> Path:
    """A venv holding cookiecutter alone, made once per version (a lock file keeps parallel test
    runs from building it twice). uv makes it in seconds; pip does if uv is not on PATH."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"cookiecutter-{COOKIECUTTER_VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (COOKIECUTTER_VENV / ".installed").exists():
            shutil.rmtree(COOKIECUTTER_VENV, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(COOKIECUTTER_VENV)], check=True, timeout=300)
            subprocess.run(
                [
                    str(COOKIECUTTER_VENV / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    f"cookiecutter=={COOKIECUTTER_VERSION}",
                ],
                check=True,
                timeout=600,
            )
            (COOKIECUTTER_VENV / ".installed").touch()
    return COOKIECUTTER


def run_cookiecutter(
    template: str, *answers: str, cwd: Path, output_dir: Path | None = None, home: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """The CLI exactly as a user runs it, from its own venv, in a user's environment (with `env`
    set in it)."""
    command = [str(ensure_cookiecutter()), "--no-input", template, *answers]
    if output_dir is not None:
        command += ["--output-dir", str(output_dir)]
    return subprocess.run(
        command, cwd=cwd, env=user_env(home, **env), capture_output=True, text=True, timeout=120, check=False
    )


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TEMPLATE_TIMES:
        terminalreporter.write_sep("-", "template variants")
        for line in TEMPLATE_TIMES:
            terminalreporter.write_line(line)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the selected template variants now, beside the rest of the suite: one pytest keeps
    one core busy, and the variants (most of the suite's CPU) take the other. Through the test
    module pytest imported, whose pool their tests then wait on."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        if getattr(item, "originalname", None) == "test_generated_project_passes_its_own_checks":
            item.module.start_variants(session)  # type: ignore[attr-defined]
            return


def pytest_sessionfinish(session: pytest.Session) -> None:
    for item in session.items:
        if getattr(item, "originalname", None) == "test_generated_project_passes_its_own_checks":
            item.module.stop_variants()  # type: ignore[attr-defined]
            return
