"""The environment that generates projects is a user's: cookiecutter alone, no project tools."""

import json
import shutil
import subprocess

from tests.template.conftest import clean_path, ensure_cookiecutter, user_env

# What a generation must never rely on: the project's tools, and the project with its packages.
PROJECT_TOOLS = ("ruff", "mypy", "alembic", "uvicorn")
PROJECT_MODULES = ("ruff", "mypy", "core", "modules", "fastapi", "sqlmodel", "pydantic")

PROBE = """
import importlib.metadata, importlib.util, json, shutil
try:
    importlib.metadata.distribution("fastapi-modulith")
    installed = True
except importlib.metadata.PackageNotFoundError:
    installed = False
print(json.dumps({
    "modules": [name for name in %r if importlib.util.find_spec(name)],
    "tools": [name for name in %r if shutil.which(name)],
    "project_installed": installed,
}))
"""


def test_cookiecutter_runs_without_any_project_tool_or_package(tmp_path):
    python = ensure_cookiecutter().parent / "python"
    result = subprocess.run(
        [str(python), "-c", PROBE % (PROJECT_MODULES, PROJECT_TOOLS)],
        cwd=tmp_path,
        env=user_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout)
    assert seen == {"modules": [], "tools": [], "project_installed": False}


def test_the_generating_path_holds_no_project_tool():
    path = clean_path()
    found = {tool: shutil.which(tool, path=path) for tool in PROJECT_TOOLS}
    assert found == dict.fromkeys(PROJECT_TOOLS)
