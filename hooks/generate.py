"""What the hooks do, as plain, testable Python.

The new project is the repository root: every file is copied from there, and the few that
depend on the answers are derived from the root's own copy by replacing single, named lines
or dropping marked blocks, so no dependency list, setting or README section exists twice.
Only the README, a front page, is a template of its own (`{{cookiecutter.project_slug}}/README.md`).
"""

import fnmatch
import importlib
import importlib.util
import json
import keyword
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from scaffold import remove, scaffold
from scaffold.entities import Entity, parse_entities
from scaffold.migration import rechain
from scaffold.names import ScaffoldError
from scaffold.ownership import Ownership

SUPPORTED_PYTHON = ("3.11", "3.12", "3.13")
CHOICES = {
    "python_version": SUPPORTED_PYTHON,
    "database": ("sqlite", "postgresql"),
    "rate_limit_storage": ("memory", "redis"),
    "open_registration": ("yes", "no"),
    "use_docker": ("yes", "no"),
    "admin": ("yes", "no"),
    "tenancy": ("user", "organization"),
}
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Template material: never emitted. The service's README is `{{cookiecutter.project_slug}}/README.md`.
TEMPLATE_ONLY = {".git", "cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}", "README.md", "bench"}
# The benchmark measures the template (its items example), so it and its record stay here.
TEMPLATE_ONLY_PATHS = {
    Path("tests/template"),
    Path("tests/bench"),
    Path("docs/performance.md"),
    # How to make a service, and the commands its examples run: the template's own pages.
    Path("docs/create-a-service.md"),
    Path("docs/examples/create-a-service.sh"),
    Path("docs/examples/clinic-booking.sh"),
    # The items example is the template's rendering here; in a service it is the team's code.
    Path("tests/scaffold/test_items_rendering.py"),
}
DOCKER_FILES = (
    "Dockerfile",
    "compose.yaml",
    ".dockerignore",
    "tests/deploy/test_container_files.py",
    "docs/docker.md",
)
# The admin site (answer admin=no drops it): its module, its tests, template and screenshot;
# then (drop_admin) every module's admin.py, the module's paragraph of `.env.example`, the
# `<admin>` blocks of the few files outside it that mention it, and its packages in the lock.
# Core holds none of it: no core file is edited.
ADMIN_PATHS = (
    "modules/admin",
    "tests/admin",
    "tests/deploy/test_admin_browser.py",
    "tests/organizations/test_admin.py",
    "scaffold/templates/module/admin.py.jinja",
    "docs/admin.png",
)
ADMIN_BLOCKS = {
    "pyproject.toml": "#",
}
ADMIN_PACKAGES = ("sqladmin", "WTForms", "itsdangerous", "greenlet")
# Organizations (answer tenancy=user drops them): the module, its tests and revision, its
# paragraph of .env.example, the scaffold's test of owned=org, and every `<organizations>` block
# left in tests and templates (`# <organizations>` in code, `{# <organizations> #}` in the entity
# template). core/ and modules/ have none: a module is a folder, and core names none.
ORGANIZATION_PATHS = (
    "modules/organizations",
    "tests/organizations",
    "tests/scaffold/test_scaffold_organizations.py",
)
ORGANIZATION_REVISIONS = "migrations/versions/*organizations*.py"
# A page's line in mkdocs.yml's navigation (`  - Docker Compose: docker.md`).
NAV_PAGE = re.compile(r"^\s*- (?:[^:\n]+: )?([\w/.-]+\.md)\n?$")


def validate(answers: dict[str, Any]) -> str | None:
    """The first bad answer, as one line naming it; None when all are fine."""
    slug = str(answers.get("project_slug", ""))
    if not _SLUG.fullmatch(slug):
        return (
            f"project_slug {slug!r} must be lower-case letters and digits, "
            "words joined by '-' or '_', starting with a letter"
        )
    module = slug.replace("-", "_")
    if keyword.iskeyword(module) or module in sys.stdlib_module_names:
        return f"project_slug {slug!r} is a Python keyword or standard-library module name"
    for key, allowed in CHOICES.items():
        if str(answers.get(key)) not in allowed:
            return f"{key} {answers.get(key)!r} must be one of: {', '.join(allowed)}"
    if not str(answers.get("project_name", "")).strip():
        return "project_name must not be empty"
    if not _EMAIL.fullmatch(str(answers.get("author_email", ""))):
        return f"author_email {answers.get('author_email')!r} is not an email address"
    try:
        entities(answers)
    except ScaffoldError as exc:
        return f"entities: {exc}"
    for key in ("project_name", "description", "author_name"):
        if '"""' in str(answers.get(key, "")) or "\n" in str(answers.get(key, "")):
            return f"{key} must be one line without triple quotes"
    return None


def entities(answers: dict[str, Any]) -> list[Entity]:
    """The `entities` answer, in the order they are made. A reference may name them or users.
    An entity that does not say `owned=` is owned as the `tenancy` answer says."""
    teams = answers.get("tenancy") == "organization"
    default = Ownership.ORGANIZATION if teams else Ownership.USER
    listed = parse_entities(str(answers.get("entities", "")), existing={"users"}, default=default)
    for entity in listed:
        if not teams and entity.ownership is Ownership.ORGANIZATION:
            raise ScaffoldError(
                f"{entity.names.plural}: owned={Ownership.ORGANIZATION} needs the answer tenancy=organization"
            )
    return listed


def _ignored_patterns(root: Path) -> list[str]:
    gitignore = root / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def copy_root(template_root: Path, project: Path) -> None:
    """Copy the service from the template root, leaving out template material and whatever
    git ignores. Files cookiecutter already rendered into the project win."""
    ignored = _ignored_patterns(template_root)

    def emitted(relative: Path) -> bool:
        if len(relative.parts) == 1 and relative.name in TEMPLATE_ONLY:
            return False
        if relative in TEMPLATE_ONLY_PATHS:
            return False
        return not any(fnmatch.fnmatch(relative.name, pattern) for pattern in ignored)

    for directory, subdirectories, files in os.walk(template_root):
        here = Path(directory).relative_to(template_root)
        subdirectories[:] = sorted(name for name in subdirectories if emitted(here / name))
        for name in files:
            target = project / here / name
            if emitted(here / name) and not target.exists():
                # Folders are made for the files they receive only: one whose files all stay
                # in the template (docs/ with performance.md) is not left behind empty.
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(directory) / name, target)


def _replace_in(text: str, pattern: str, replacement: str, where: str) -> str:
    """Replace one line that must be there: a changed root file fails loudly, not silently."""
    new_text, count = re.subn(pattern, lambda _match: replacement, text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise SystemExit(f"error: template out of date: {pattern!r} not found in {where}")
    return new_text


def _replace(path: Path, pattern: str, replacement: str) -> None:
    path.write_text(_replace_in(path.read_text(), pattern, replacement, path.name))


def _marked_blocks(text: str, start: str, end: str, *, keep: bool, where: str) -> str:
    """Keep (without its marker lines) or drop every block between a `start` and an `end` line.
    A marker the root file no longer has is an error, as for _replace."""
    # A start line may go on with a comment saying what the block is.
    pattern = re.compile(rf"^{re.escape(start)}[^\n]*\n(.*?)^{re.escape(end)}\n", re.MULTILINE | re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"error: template out of date: no {start!r} block in {where}")
    return pattern.sub(lambda match: match.group(1) if keep else "", text)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def derive(project: Path, answers: dict[str, Any]) -> None:
    """Adjust the root's own files to the answers."""
    version = answers["python_version"]
    short = version.replace(".", "")
    pyproject = project / "pyproject.toml"
    _replace(pyproject, r'^name = ".*"$', f"name = {_toml_string(answers['project_slug'])}")
    _replace(
        pyproject,
        r'^description = ".*"$',
        f"description = {_toml_string(answers['description'])}\n"
        f"authors = [{{ name = {_toml_string(answers['author_name'])}, "
        f"email = {_toml_string(answers['author_email'])} }}]",
    )
    _replace(pyproject, r'^requires-python = ".*"$', f'requires-python = ">={version}"')
    _replace(pyproject, r'^target-version = ".*"$', f'target-version = "py{short}"')
    _replace(pyproject, r'^python_version = ".*"$', f'python_version = "{version}"')
    files = re.search(r"^files = \[.*\]$", pyproject.read_text(), flags=re.MULTILINE)
    if files is None:
        raise SystemExit("error: template out of date: no mypy files line in pyproject.toml")
    # The hooks stay behind, so mypy must not look for them.
    _replace(pyproject, r"^files = \[.*\]$", re.sub(r', "hooks/[^"]*"', "", files.group(0)))

    env_example = project / ".env.example"
    _replace(env_example, r"^PROJECT_NAME=.*$", f"PROJECT_NAME={_toml_string(answers['project_name'])}")
    # Its rate-limit counts in a shared Redis are kept under its own name: the slug.
    _replace(env_example, r"^# SERVICE_NAME=.*$", f"SERVICE_NAME={answers['project_slug']}")
    if answers["database"] == "postgresql":
        database = answers["project_slug"].replace("-", "_")
        _replace(
            env_example,
            r"^DATABASE_URL=.*$",
            f"DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        )
    if answers["rate_limit_storage"] == "redis":
        _replace(
            env_example, r"^RATE_LIMIT_STORAGE_URL=.*$", "RATE_LIMIT_STORAGE_URL=redis://127.0.0.1:6379/0"
        )
    if answers["open_registration"] == "no":
        _replace(env_example, r"^OPEN_REGISTRATION=.*$", "OPEN_REGISTRATION=false")

    if version != SUPPORTED_PYTHON[0]:
        # `make` builds .venv with this interpreter; plain python3 may be an older one.
        _replace(project / "Makefile", r"^PYTHON \?= .*$", f"PYTHON ?= python{version}")

    makefile = project / "Makefile"
    makefile.write_text(
        _marked_blocks(
            makefile.read_text(), "# <template-only>", "# </template-only>", keep=False, where="Makefile"
        )
    )

    workflow = project / ".github" / "workflows" / "ci.yml"
    _replace(workflow, r"^# The template's hooks/generate\.py rewrites .*\n", "")
    _replace(workflow, r'^          python-version: ".*"$', f'          python-version: "{version}"')

    slug = answers["project_slug"]
    if answers["use_docker"] == "yes":
        _replace(project / "Dockerfile", r"^ARG PYTHON_VERSION=.*$", f"ARG PYTHON_VERSION={version}")
        compose = project / "compose.yaml"
        _replace(compose, r"^# The template's hooks/generate\.py rewrites .*\n", "")
        _replace(compose, r"^name: .*$", f"name: {slug}")
        _replace(
            compose,
            r"^      - [a-z0-9_-]+-postgres-data:/var/lib/postgresql/data$",
            f"      - {slug}-postgres-data:/var/lib/postgresql/data",
        )
        _replace(compose, r"^  [a-z0-9_-]+-postgres-data:$", f"  {slug}-postgres-data:")
        # Generation already wrote .env with a secret key of its own (write_env).
        first_step = "#   edit .env   # generation wrote it, SECRET_KEY included"
        _replace(compose, r"^#   cp \.env\.example \.env.*$", first_step)
    else:
        for name in DOCKER_FILES:
            (project / name).unlink(missing_ok=True)
    if answers["admin"] == "no":
        drop_admin(project)
    if answers["tenancy"] == "user":
        drop_organizations(project)
    site(project, answers)


def site(project: Path, answers: dict[str, Any]) -> None:
    """The docs site is the service's: its name on every page and the home page's title, and no
    navigation line for a page generation left out (a module's pages need none: they come and
    go with its folder, core/modulith/site.py)."""
    mkdocs = project / "mkdocs.yml"
    _replace(
        mkdocs, r"^site_name: .*$", f"site_name: {json.dumps(answers['project_name'], ensure_ascii=False)}"
    )
    _replace(
        mkdocs,
        r"^site_description: .*$",
        f"site_description: {json.dumps(answers['description'], ensure_ascii=False)}",
    )

    def kept(line: str) -> bool:
        page = NAV_PAGE.match(line)
        return page is None or (project / "docs" / page.group(1)).is_file()

    mkdocs.write_text("".join(line for line in mkdocs.read_text().splitlines(keepends=True) if kept(line)))
    index = project / "docs" / "index.md"
    _replace(index, r"^# .*$", f"# {answers['project_name']}\n\n{answers['description']}")


def drop_admin(project: Path) -> None:
    """Remove every trace of /admin: the entity scaffold then renders no admin.py (it renders the
    templates there are) and no admin tests (their block is gone from the test template)."""
    for name in ADMIN_PATHS:
        path = project / name
        if path.is_dir():
            shutil.rmtree(path)
        path.unlink(missing_ok=True)
    for view in (project / "modules").glob("*/admin.py"):
        view.unlink()
    docs = project / "docs"
    if docs.is_dir() and not any(docs.iterdir()):
        docs.rmdir()
    for name, comment in ADMIN_BLOCKS.items():
        path = project / name
        path.write_text(_without_block(path.read_text(), "admin", comment, where=name))
    env_example = project / ".env.example"
    env_example.write_text(_without_env_paragraph(env_example.read_text(), "admin"))
    lock = project / "requirements.lock"
    pins = [line for line in lock.read_text().splitlines() if line.split("==")[0] not in ADMIN_PACKAGES]
    lock.write_text("\n".join(pins) + "\n")


def drop_organizations(project: Path) -> None:
    """Remove every trace of organizations: the module and what serves it, and the entity
    template's branch for an organization's rows (its blocks), so no entity can be made one."""
    for name in ORGANIZATION_PATHS:
        path = project / name
        if path.is_dir():
            shutil.rmtree(path)
        path.unlink(missing_ok=True)
    for revision in project.glob(ORGANIZATION_REVISIONS):
        rechain(project, revision)
    env_example = project / ".env.example"
    env_example.write_text(_without_env_paragraph(env_example.read_text(), "organizations"))
    for path in sorted(project.rglob("*")):
        if ".git" in path.relative_to(project).parts or not path.is_file() or path.suffix == ".png":
            continue
        text = path.read_text(errors="ignore")
        for comment in ("#", "{#"):
            if re.search(rf"^[ \t]*{re.escape(comment)} <organizations>", text, flags=re.MULTILINE):
                text = _without_block(text, "organizations", comment, where=str(path.relative_to(project)))
                path.write_text(text)


def _without_block(text: str, name: str, comment: str, *, where: str) -> str:
    """Drop every `<name>` block of a code file (its marker lines are comments, `# <name>` or
    `{# <name> #}`, at any indent), with the blank lines just before it."""
    start, end = re.escape(f"{comment} <{name}>"), re.escape(f"{comment} </{name}>")
    pattern = re.compile(
        rf"(?:^[ \t]*\n)*^[ \t]*{start}[^\n]*\n.*?^[ \t]*{end}[^\n]*\n", re.MULTILINE | re.DOTALL
    )
    if not pattern.search(text):
        raise SystemExit(f"error: template out of date: no {name!r} block in {where}")
    return pattern.sub("", text)


def _without_env_paragraph(text: str, module: str) -> str:
    """.env.example without a module's paragraph: from its `# --- <module> (...) ---` line to the
    blank line after it, which goes too."""
    pattern = re.compile(rf"^# --- {re.escape(module)} \(.*?(?:\n\n|\Z)", re.MULTILINE | re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"error: template out of date: no {module!r} paragraph in .env.example")
    return pattern.sub("", text).rstrip("\n") + "\n"


def write_env(project: Path) -> None:
    """`.env` from `.env.example`, with a secret key of its own (git ignores `.env`)."""
    text = (project / ".env.example").read_text()
    secret = secrets.token_urlsafe(48)
    text, count = re.subn(r"^SECRET_KEY=.*$", f"SECRET_KEY={secret}", text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise SystemExit("error: template out of date: no SECRET_KEY line in .env.example")
    (project / ".env").write_text(text)


def add_entities(project: Path, listed: list[Entity]) -> None:
    """The example (items) makes way, and each listed entity is rendered from the entity template
    as `make entity` would, its revision named by the entity: generating the same answers twice
    gives the same files, which a template update relies on. Listed with the example's fields,
    items comes back exactly as the root has it. Each removal and addition redraws
    docs/modules.md, so the service's module map is its own modules'."""
    remove(project, "items")
    for entity in listed:
        scaffold(
            project,
            entity.names.plural,
            entity.names.singular,
            entity.fields,
            ownership=entity.ownership,
            named_by_entity=True,
        )


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Fixed git arguments, no shell; git is whichever the user's PATH finds.
    return subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=False)  # noqa: S603, S607


def _is_url(template: str) -> bool:
    """How cookiecutter tells a repository URL (or gh:/gl:/bb: abbreviation) from a local path."""
    return bool(re.match(r"^(((git|hg)\+)?(git|ssh|file|https?):(//)?|\w+@[\w.]+|(gh|gl|bb):)", template))


def write_cruft_state(project: Path, template_root: Path, answers: dict[str, Any]) -> str | None:
    """`.cruft.json`, so `make update` (cruft) can follow the template: where it is, the commit
    rendered and the answers. Under `cruft create` the answers already name both, and cruft
    rewrites the file afterwards with the same bytes, so the first commit already holds it.
    Under plain cookiecutter it is written when the template is a git checkout (a URL's clone
    or a local one); otherwise a note says why there is none."""
    if "_commit" in answers:
        template, commit, checkout = answers["_template"], answers["_commit"], None
        context = answers
    elif shutil.which("git") is None:
        return "note: git not found, so the template's commit is unknown: no .cruft.json, no make update"
    else:
        top = _git(template_root, "rev-parse", "--show-toplevel")
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != template_root.resolve():
            return "note: the template is not a git checkout, so there is no .cruft.json and no make update"
        commit = _git(template_root, "rev-parse", "HEAD").stdout.strip()
        # A URL was cloned by cookiecutter: follow the URL. A local checkout is followed where it is.
        origin = _git(template_root, "remote", "get-url", "origin").stdout.strip()
        template = origin if _is_url(str(answers.get("_template", ""))) and origin else str(template_root)
        checkout = answers.get("_checkout")
        local = {"_output_dir", "_repo_dir", "_checkout"}  # this machine's paths; cruft has no use for them
        context = {key: value for key, value in answers.items() if key not in local}
        context |= {"_template": template, "_commit": commit}
    # Hooks see the answers with their keys sorted (cookiecutter's jsonify); cruft keeps them
    # in cookiecutter.json's order, then _template and _commit.
    order = [*json.loads((template_root / "cookiecutter.json").read_text()), "_template", "_commit"]
    context = dict(
        sorted(context.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    )
    state = {
        "template": template,
        "commit": commit,
        "checkout": checkout,
        "context": {"cookiecutter": context},
        "directory": None,
    }
    # Formatted as cruft formats it (cruft/_commands/utils/cruft.py: json_dumps).
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"
    (project / ".cruft.json").write_text(text)
    return None


def init_git(project: Path, answers: dict[str, Any]) -> str:
    """Make the project a git repository with a first commit; say what happened in one line.
    The author comes from the answers, so it works on a machine with no git identity."""
    if os.environ.get("MODULITH_NO_GIT"):
        return "git: skipped (MODULITH_NO_GIT is set)"
    if shutil.which("git") is None:
        return "git: not found, so the project is not a repository yet (git init, add, commit)"
    if _git(project, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true":
        return "git: the project lies inside another repository, so no repository of its own was made"
    identity = ["-c", f"user.name={answers['author_name']}", "-c", f"user.email={answers['author_email']}"]
    for name, args in (
        ("init", ["init", "--quiet"]),
        ("add", ["add", "--all"]),
        ("commit", [*identity, "commit", "--quiet", "--message", "Generated from FastAPI Modulith"]),
    ):
        result = _git(project, *args)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
            return f"git: `git {name}` failed ({reason}); the files are all there, not committed"
    return "git: made a repository with a first commit of everything generated (MODULITH_NO_GIT=1 skips this)"


def provide_ruff(project: Path) -> None:
    """The project's own ruff, for the scaffold to lay out what it renders, as `make entity` does
    with the one in .venv. cookiecutter runs this hook with whatever Python it was installed in,
    which rarely has ruff: then the lock's pin is installed once into the user's cache
    (`~/.cache/fastapi-modulith/ruff==X`) and used from there by this and later generations."""
    if importlib.util.find_spec("ruff") is not None:
        return
    pin = next(
        line for line in (project / "requirements.lock").read_text().splitlines() if line.startswith("ruff==")
    )
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fastapi-modulith"
    folder = cache / pin
    if not (folder / "ruff").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        # Installed beside, then moved in whole: a generation running at the same time never
        # sees half an install.
        staging = Path(tempfile.mkdtemp(dir=cache))
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        installed = subprocess.run(  # noqa: S603 (this interpreter's pip, the lock's pin)
            [*command, "--target", str(staging), pin], capture_output=True, text=True, check=False
        )
        if installed.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            reason = (installed.stderr.strip().splitlines() or ["no message"])[-1]
            raise SystemExit(f"error: could not install {pin} to lay out the entities ({reason})")
        try:
            staging.rename(folder)
        except OSError:  # another generation moved its own in first: the same pin
            shutil.rmtree(staging, ignore_errors=True)
    # Seen by this process's check and by the `python -m ruff` the scaffold runs.
    sys.path.insert(0, str(folder))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    importlib.invalidate_caches()


def generate(*, project: Path, template_root: Path, answers: dict[str, Any]) -> None:
    copy_root(template_root, project)
    derive(project, answers)
    write_env(project)
    provide_ruff(project)
    add_entities(project, entities(answers))
    note = write_cruft_state(project, template_root, answers)
    if note:
        print(note)
    print(init_git(project, answers))
