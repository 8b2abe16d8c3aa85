"""Updating a generated service across a template change, as docs/updating.md tells a team to.

The template is a throwaway git repository holding the working tree (commit A); the service is
made from it with `cruft create` (or plain cookiecutter, whose hook writes `.cruft.json`
itself); the template then changes (commit B: a core file, a new
file, a pin in the lock) and the service runs docs/examples/update-from-the-template.sh, the
lines docs/updating.md shows. To keep the time down, the service's suite runs with this
repository's interpreter, on a subset (tests/core and the login tests), rather than in a venv of
its own.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, require_server
from tests.template.conftest import POSTGRES_URL, postgres_available

CRUFT = "cruft==2.16.0"  # as the generated Makefile's update target installs it
IDENTITY = ["-c", "user.name=Template Maintainer", "-c", "user.email=maintainer@example.org"]
# What docs/updating.md tells a team to type, one command a line.
UPDATE_EXAMPLE = ROOT / "docs" / "examples" / "update-from-the-template.sh"
# The team member who commits the update (HOME is private: no git config of theirs is there).
TEAM_MEMBER = {
    "GIT_AUTHOR_NAME": "Service Developer",
    "GIT_AUTHOR_EMAIL": "developer@example.com",
    "GIT_COMMITTER_NAME": "Service Developer",
    "GIT_COMMITTER_EMAIL": "developer@example.com",
}
# The file commit B adds: at the root, where no check of the service's (the docs site's strict
# navigation, say) has an opinion about it.
NEW_FILE = "UPGRADING.md"
NEW_DOCSTRING = '"""Password hashing and signed tokens (changed by the template at commit B)."""'

pytestmark = pytest.mark.slow


def git(directory: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def cruft_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cruft in a venv of its own, as `make update` makes one: the service's .venv never has it."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to update from the template")
    venv = tmp_path_factory.mktemp("cruft-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        CRUFT,
    ]
    result = subprocess.run(install, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        require_server(f"{CRUFT} could not be installed from the package index: {result.stderr[-300:]}")
    return venv


def template_at_commit_a(directory: Path) -> Path:
    """A git repository holding this working tree as it is, committed changes or not."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in listed:
        if name and (ROOT / name).is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, directory / name)
    git(directory, "init", "--quiet")
    git(directory, "add", "--all")
    git(directory, *IDENTITY, "commit", "--quiet", "--message", "A")
    return directory


def change_the_template(template: Path) -> str:
    """Commit B: a core file changed, a file added, a pin moved. Returns the new lock line."""
    security = template / "core" / "security.py"
    lines = security.read_text().splitlines(keepends=True)
    assert lines[0].startswith('"""'), "core/security.py no longer opens with its docstring"
    security.write_text(NEW_DOCSTRING + "\n" + "".join(lines[1:]))
    (template / NEW_FILE).write_text("# Upgrading\n\nAdded by the template at commit B.\n")
    lock = template / "requirements.lock"
    pin = re.search(r"^iniconfig==(.+)$", lock.read_text(), flags=re.MULTILINE)
    assert pin is not None, "requirements.lock no longer pins iniconfig"
    new_pin = "iniconfig==2.1.0" if pin.group(1) != "2.1.0" else "iniconfig==2.0.0"
    lock.write_text(lock.read_text().replace(pin.group(0), new_pin))
    git(template, "add", "--all")
    git(template, *IDENTITY, "commit", "--quiet", "--message", "B")
    return new_pin


def make_service(template: Path, cruft_venv: Path, env: dict[str, str], tool: str, database: str) -> Path:
    """The service, made from the template at commit A and committed as generation leaves it."""
    out = template.parent / "out"
    out.mkdir()
    if tool == "cruft":
        context = ["--extra-context", json.dumps({"database": database})]
        command = [str(cruft_venv / "bin" / "cruft"), "create", "--no-input", str(template), *context]
    else:
        # The cookiecutter cruft brings: the same one cruft create runs.
        cookiecutter = str(cruft_venv / "bin" / "cookiecutter")
        command = [cookiecutter, "--no-input", str(template), f"database={database}"]
    created = run(command, cwd=out, env=env)
    assert created.returncode == 0, created.stdout + created.stderr
    project = out / "acme-api"
    # The first commit already holds .cruft.json as cruft writes it: nothing to commit first.
    assert git(project, "status", "--porcelain") == ""
    assert json.loads((project / ".cruft.json").read_text())["template"] == str(template)
    return project


def private_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env["HOME"] = str(tmp_path)  # no user config of cookiecutter's or git's leaks in
    return env


@pytest.mark.parametrize(
    ("tool", "database"), [("cruft", "sqlite"), ("cruft", "postgresql"), ("cookiecutter", "sqlite")]
)
def test_make_update_brings_a_template_change_into_a_service(tmp_path, cruft_venv, tool, database):
    env = private_env(tmp_path)
    if database == "postgresql":
        if not postgres_available():
            require_server(f"PostgreSQL at {POSTGRES_URL} does not answer")
        env["TEST_DATABASE_URL"] = POSTGRES_URL

    template = template_at_commit_a(tmp_path / "template")
    project = make_service(template, cruft_venv, env, tool, database)
    env_before = (project / ".env").read_text()
    (secret,) = re.findall(r"^SECRET_KEY=(.+)$", env_before, flags=re.MULTILINE)

    new_pin = change_the_template(template)
    status, update, review, commit = [
        line for line in UPDATE_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    ]
    env["CRUFT_VENV"] = str(cruft_venv)  # the Makefile's `CRUFT_VENV ?=` takes it from the environment
    outputs = []
    for line in (status, update, review):
        ran = run(["bash", "-c", line], cwd=project, env=env)
        outputs.append(ran.stdout + ran.stderr)
        assert ran.returncode == 0, f"{line}:\n{outputs[-1]}"
    output = "".join(outputs)
    # The review shows the template's change (what make update printed, if not).
    assert NEW_DOCSTRING in outputs[2], outputs[1]

    assert (project / "core" / "security.py").read_text().splitlines()[0] == NEW_DOCSTRING
    assert (project / NEW_FILE).is_file()
    assert new_pin in (project / "requirements.lock").read_text().splitlines()
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == git(template, "rev-parse", "HEAD").strip()
    # Nothing conflicts: no rejected hunk, no unmerged file, no conflict marker.
    assert list(project.rglob("*.rej")) == []
    assert git(project, "ls-files", "--unmerged") == ""
    for name in git(project, "diff", "HEAD", "--name-only").split():
        assert "<<<<<<<" not in (project / name).read_text(), name
    # .env is the project's: untouched, and its secret never shown.
    assert (project / ".env").read_text() == env_before
    assert secret not in output
    drift = run([str(cruft_venv / "bin" / "cruft"), "diff"], cwd=project, env=env)
    assert drift.returncode == 0, drift.stderr
    assert secret not in drift.stdout + drift.stderr

    heads = run([sys.executable, "-m", "alembic", "heads"], cwd=project, env=env)
    assert heads.returncode == 0, heads.stderr
    assert len(heads.stdout.strip().splitlines()) == 1, heads.stdout

    suite = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "tests/core",
            "tests/auth/test_login.py",
        ],
        cwd=project,
        env=env,
    )
    assert suite.returncode == 0, suite.stdout[-5000:] + suite.stderr[-3000:]
    assert " passed" in suite.stdout.splitlines()[-1]

    # The last line's `make test` is the service's whole suite in a venv of its own (minutes): the
    # subset above stands in for it here, and the template variants run a service's `make test`.
    # The rest of the line runs as written.
    make_test, add_and_commit = commit.split(" && ", 1)
    assert make_test == "make test"
    committed = run(["bash", "-c", add_and_commit], cwd=project, env={**env, **TEAM_MEMBER})
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s").strip() == "Update from the template"
    # The update and nothing else: what the suite left behind is git-ignored.
    assert set(git(project, "diff", "--name-only", "HEAD~1", "HEAD").split()) == {
        ".cruft.json",
        "core/security.py",
        NEW_FILE,
        "requirements.lock",
    }


def test_a_conflict_is_left_as_merge_markers_for_the_team(tmp_path, cruft_venv):
    # docs/updating.md's "On a conflict": the service changed the line the template changes too.
    env = private_env(tmp_path)
    template = template_at_commit_a(tmp_path / "template")
    project = make_service(template, cruft_venv, env, "cruft", "sqlite")
    env_before = (project / ".env").read_text()
    security = project / "core" / "security.py"
    ours = '"""Hashing and tokens, as this service describes them."""'
    security.write_text(ours + "\n" + security.read_text().split("\n", 1)[1])
    git(project, *IDENTITY, "commit", "--quiet", "--all", "--message", "Our docstring")

    change_the_template(template)
    updated = run(["make", "update", f"CRUFT_VENV={cruft_venv}"], cwd=project, env=env)
    assert updated.returncode == 0, updated.stdout + updated.stderr

    assert git(project, "diff", "--name-only", "--diff-filter=U").split() == ["core/security.py"]
    text = security.read_text()
    assert ours in text
    assert NEW_DOCSTRING in text
    assert "<<<<<<<" in text
    # Everything else arrived, and .env is as it was.
    assert (project / NEW_FILE).is_file()
    assert (project / ".env").read_text() == env_before
