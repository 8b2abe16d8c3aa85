"""Generation: answers, where the template comes from, and what lands in the project."""

import filecmp
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from hooks.generate import ORGANIZATION_PATHS
from scaffold.migration import read_revisions
from tests.helpers import ROOT
from tests.template.conftest import ensure_cookiecutter, run_cookiecutter, user_env

# The files of the defaults' service that are not the root's, each with why: everything else is
# the root's own, byte for byte, but for what tenancy=user takes out (organizations_files: the
# files of `<organizations>` blocks, and the revision chained past the organizations' one).
DIFFERS_IN_DEFAULTS = {
    "README.md": "the service's own front page, {{cookiecutter.project_slug}}/README.md",
    "pyproject.toml": "the project's name, description and authors; mypy leaves out the hooks",
    ".env.example": "PROJECT_NAME and SERVICE_NAME; tenancy=user drops the organizations' paragraph",
    "Makefile": "without its template-only block (make bench)",
    "compose.yaml": "the project's name and volume, .env already written",
    ".github/workflows/ci.yml": "without the note on what generation rewrites",
    "mkdocs.yml": "site_name and site_description, no nav line of the template's own pages",
    "docs/index.md": "the project's name and description as its title",
    "docs/modules.md": "the module map, drawn from the modules left (tenancy=user drops one)",
    "docs/reference/commands.md": "drawn from the Makefile, less its template-only make bench",
    "docs/reference/settings.md": "drawn from the settings, less the organizations' (tenancy=user)",
}
TEMPLATE_MATERIAL = (
    "cookiecutter.json",
    "hooks",
    "{{cookiecutter.project_slug}}",
    "tests/template",
    "bench",
    "tests/bench",
    "docs/performance.md",
    # How to make a service, and the commands of its examples: the template's pages.
    "docs/create-a-service.md",
    "docs/examples/create-a-service.sh",
    "docs/examples/clinic-booking.sh",
    "tests/scaffold/test_items_rendering.py",
)
# A generated service's README is a front page too, as the root's (tests/test_project_files.py).
README_MOST_LINES = 150


def root_files() -> set[str]:
    """What git tracks at the root, less the template material: the service itself."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return {
        name
        for name in listed
        if (ROOT / name).is_file()
        and not any(name == m or name.startswith(f"{m}/") for m in TEMPLATE_MATERIAL)
    }


def organizations_files() -> tuple[set[str], set[str]]:
    """The root's files that the default tenancy=user leaves out, and those it takes blocks out of."""
    files = root_files()
    dropped = {
        name
        for name in files
        if any(name == path or name.startswith(f"{path}/") for path in ORGANIZATION_PATHS)
        or (name.startswith("migrations/versions/") and "organizations" in name)
    }
    marked = {
        name
        for name in files - dropped
        if "<organizations>" in (ROOT / name).read_text(errors="ignore") and name != "README.md"
    }
    # The revision after the organizations' one is chained past it.
    revisions = read_revisions(ROOT)
    (gone,) = (r for r in revisions if "organizations" in r.creates)
    marked |= {str(r.path.relative_to(ROOT)) for r in revisions if r.down_revision == gone.revision}
    return dropped, marked


def project_files(project: Path) -> set[str]:
    """The project's files, less the git repository generation made of them."""
    return {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and path.relative_to(project).parts[0] != ".git"
    }


def head_commit(directory: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True
    ).stdout.strip()


def nav_pages(project: Path) -> list[str]:
    """The pages mkdocs.yml's navigation names (its `modules/*` is core/modulith/site.py's: each
    module's pages, found in its folder)."""
    found: list[str] = []

    def walk(entry: object) -> None:
        if isinstance(entry, str) and entry.endswith(".md"):
            found.append(entry)
        elif isinstance(entry, list):
            for item in entry:
                walk(item)
        elif isinstance(entry, dict):
            for item in entry.values():
                walk(item)

    walk(yaml.safe_load((project / "mkdocs.yml").read_text())["nav"])
    return found


def check_front_pages(project: Path, name: str, description: str | None = None) -> None:
    """What generation makes of the pages a reader opens first: a README of the project's, short,
    a docs site of its name whose navigation names only the pages the service has."""
    readme = (project / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MOST_LINES, f"README.md has {len(readme.splitlines())} lines"
    title = f"# {name}\n" + (f"\n{description}\n" if description is not None else "")
    assert readme.startswith(title), readme[:200]
    assert (project / "docs/index.md").read_text().startswith(title)
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    assert config["site_name"] == name
    if description is not None:
        assert config["site_description"] == description
    pages = nav_pages(project)
    assert "index.md" in pages
    assert [page for page in pages if not (project / "docs" / page).is_file()] == []


@pytest.fixture(scope="module")
def default_project(generate):
    return generate()


def test_defaults_are_the_root_service_file_for_file(default_project):
    project = default_project
    assert project.name == "acme-api"
    # The root is a service with organizations (tenancy=organization); the default is without.
    dropped, marked = organizations_files()
    expected = (root_files() - {"README.md"} - dropped) | {"README.md", ".env", ".cruft.json"}
    assert project_files(project) == expected
    different = {
        name
        for name in expected - {".env", ".cruft.json"}
        if not filecmp.cmp(ROOT / name, project / name, shallow=False)
    }
    assert sorted(different) == sorted(set(DIFFERS_IN_DEFAULTS) | marked)
    check_front_pages(project, "Acme API", "A FastAPI service built from FastAPI Modulith.")
    for page in ("create-a-service.md", "performance.md"):
        assert not (project / "docs" / page).exists()
        assert page not in nav_pages(project)
    # The admin site's page comes with its folder (admin=yes); the teams' go with theirs (tenancy=user).
    assert (project / "modules/admin/README.md").is_file()
    assert not (project / "modules/organizations").exists()


def test_generated_project_holds_no_template_material(generate):
    project = generate("use_docker=no", "database=postgresql")
    for material in TEMPLATE_MATERIAL:
        assert not (project / material).exists(), material
    leftovers = []
    for path in project.rglob("*"):
        if path.relative_to(project).parts[0] == ".git":
            continue
        assert path.name not in {"__pycache__", ".venv", "data"}, path
        if path.is_dir():
            assert any(path.iterdir()), f"empty folder {path.relative_to(project)}"
        assert path.suffix not in {".db", ".pyc"}, path
        if path.is_file() and path.suffix != ".png":
            text = path.read_text(errors="ignore")
            # The entity template is Jinja of its own, for `make entity`, and so are the admin
            # site's overrides of sqladmin's pages; never cookiecutter's.
            parts = path.relative_to(project).parts
            jinja_of_its_own = parts[:2] == ("scaffold", "templates") or parts[:3] == (
                "modules",
                "admin",
                "templates",
            )
            if (
                "{{ cookiecutter" in text
                or "{{cookiecutter" in text
                or ("{%" in text and not jinja_of_its_own)
            ):
                leftovers.append(str(path.relative_to(project)))
    assert leftovers == []
    check_front_pages(project, "Acme API")
    makefile = (project / "Makefile").read_text()
    assert "bench" not in makefile
    assert "template-only" not in makefile
    assert "update:" in makefile


def test_answers_reach_the_derived_files(generate):
    project = generate(
        "project_name=Order Desk",
        "python_version=3.12",
        "database=postgresql",
        "rate_limit_storage=redis",
        "open_registration=no",
        "description=Takes orders.",
    )
    assert project.name == "order-desk"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "order-desk"
    assert pyproject["project"]["description"] == "Takes orders."
    assert pyproject["project"]["requires-python"] == ">=3.12"
    assert pyproject["tool"]["ruff"]["target-version"] == "py312"
    assert pyproject["tool"]["mypy"]["python_version"] == "3.12"
    # One dependency list: the root's, unchanged.
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == root["project"]["dependencies"]
    assert pyproject["project"]["optional-dependencies"] == root["project"]["optional-dependencies"]
    env = (project / ".env").read_text()
    assert "DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/order_desk" in env
    assert "RATE_LIMIT_STORAGE_URL=redis://127.0.0.1:6379/0" in env
    assert "OPEN_REGISTRATION=false" in env
    assert 'PROJECT_NAME="Order Desk"' in env
    assert "ARG PYTHON_VERSION=3.12" in (project / "Dockerfile").read_text()
    assert "PYTHON ?= python3.12" in (project / "Makefile").read_text()
    assert 'python-version: "3.12"' in (project / ".github" / "workflows" / "ci.yml").read_text()
    compose = (project / "compose.yaml").read_text()
    assert "\nname: order-desk\n" in compose
    assert "- order-desk-postgres-data:/var/lib/postgresql/data" in compose
    assert "cp .env.example" not in compose
    assert "hooks/generate.py" not in compose
    check_front_pages(project, "Order Desk", "Takes orders.")
    # The database .env names, which the README tells how to create.
    assert "createdb -h 127.0.0.1 -U postgres order_desk" in (project / "README.md").read_text()


def test_no_docker_drops_the_docker_files(generate):
    project = generate("use_docker=no")
    assert not (project / "Dockerfile").exists()
    assert not (project / "compose.yaml").exists()
    assert not (project / ".dockerignore").exists()
    assert not (project / "docs/docker.md").exists()
    assert "docker.md" not in (project / "mkdocs.yml").read_text()
    check_front_pages(project, "Acme API")


def test_every_generation_gets_its_own_secret_key(generate):
    def secret(project: Path) -> str:
        (line,) = [
            line for line in (project / ".env").read_text().splitlines() if line.startswith("SECRET_KEY=")
        ]
        return line.removeprefix("SECRET_KEY=")

    first, second = secret(generate()), secret(generate())
    assert first != second
    assert len(first.encode()) >= 32
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ("project_slug=class", "project_slug"),
        ("project_slug=json", "project_slug"),
        ("project_slug=Bad Slug!", "project_slug"),
        ("author_email=nobody", "author_email"),
        ("entities=items,class", "entities: class"),
        ("entities=users", "entities: users"),
        ("entities=notes,notes", "entities: notes: listed twice"),
        (
            "entities=visits, people",
            "entities: people: name 'people' has no distinct singular: write people/",
        ),
        ("entities=notes(price:money)", "entities: notes: field 'price:money'"),
        ("entities=lines(order_id:ref:orders)", "entities: lines: field 'order_id' refers to orders"),
        ("entities=a_things(b_id:ref:b_things), b_things(a_id:ref:a_things)", "round in a circle"),
        ("entities=tags(name:str owned=maybe)", "entities: tags: owned=maybe"),
        (
            "entities=invoices(number:str owned=org)",
            "entities: invoices: owned=org needs the answer tenancy=organization",
        ),
        ("entities=notes(title:str", "entities: cannot read"),
    ],
)
def test_invalid_answers_fail_cleanly(tmp_path, answer, named):
    out = tmp_path / "out"
    out.mkdir()
    result = run_cookiecutter(str(ROOT), answer, cwd=out, home=tmp_path)
    assert result.returncode != 0
    reasons = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(reasons) == 1, result.stderr
    assert named in reasons[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert list(out.iterdir()) == [], "a failed generation left files behind"


@pytest.mark.parametrize("answer", ["python_version=3.10", "database=mysql", "use_docker=maybe"])
def test_answers_outside_a_choice_list_are_refused_by_cookiecutter(tmp_path, answer):
    # Cookiecutter checks choice lists itself, before any hook, and names the variable.
    out = tmp_path / "out"
    out.mkdir()
    result = run_cookiecutter(str(ROOT), answer, cwd=out, home=tmp_path)
    key, value = answer.split("=")
    assert result.returncode != 0
    assert f"{value} provided for choice variable {key}" in result.stderr
    assert list(out.iterdir()) == []


def test_template_from_a_relative_path_in_another_directory(tmp_path):
    elsewhere = tmp_path / "somewhere" / "deep"
    elsewhere.mkdir(parents=True)
    relative = Path(*[".."] * len(elsewhere.relative_to("/").parts)) / ROOT.relative_to("/")
    out = tmp_path / "out"
    result = run_cookiecutter(str(relative), cwd=elsewhere, output_dir=out, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "acme-api" / "core" / "app.py").is_file()
    assert (out / "acme-api" / ".env").is_file()


def test_template_from_a_git_url(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run_cookiecutter(f"git+file://{ROOT}", cwd=out, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    project = out / "acme-api"
    assert (project / "modules" / "items" / "router.py").is_file()
    assert not (project / "hooks").exists()
    assert not (project / "tests" / "template").exists()
    # Cookiecutter cloned the URL: that is what an update follows.
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == f"file://{ROOT}"
    assert state["commit"] == head_commit(ROOT)


def test_entities_are_scaffolded_and_items_kept_only_if_listed(generate):
    project = generate("entities=order_lines,notes")
    modules = sorted(path.name for path in (project / "modules").iterdir() if path.is_dir())
    assert modules == ["admin", "auth", "notes", "order_lines", "users"]
    assert (project / "tests" / "order_lines").is_dir()
    assert not (project / "tests" / "items").exists()
    revisions = sorted(path.name for path in (project / "migrations" / "versions").glob("*.py"))
    assert "add_order_lines.py" in revisions
    assert "add_items.py" not in revisions
    router = (project / "modules" / "order_lines" / "router.py").read_text()
    assert "OrderLineCreate" in router
    check_front_pages(project, "Acme API")


CLINIC = (
    "entities=appointments(starts_at:datetime patient_id:ref:patients note:text?),"
    " patients(name:str:120 mrn:str:20:unique), people/person(name:str), tags(name:str:40:unique owned=no)"
)


def test_entities_carry_fields_a_singular_references_and_ownership(generate):
    project = generate(CLINIC)
    modules = project / "modules"
    appointments = " ".join((modules / "appointments/models.py").read_text().split())
    assert "starts_at: datetime = Field(sa_type=UTCDateTime)" in appointments
    assert (
        'patient_id: uuid.UUID = Field(foreign_key="patients.id", ondelete="CASCADE", index=True)'
        in appointments
    )
    assert "title" not in appointments
    assert 'UniqueConstraint("mrn", "owner_id")' in (modules / "patients/models.py").read_text()
    assert '__tablename__ = "people"' in (modules / "people/models.py").read_text()
    assert "owner_id" not in (modules / "tags/models.py").read_text()
    # Made after what they refer to, whatever the order of the answer.
    chain = {}
    for path in (project / "migrations/versions").glob("add_*.py"):
        source = path.read_text()
        chain[path.stem] = source.split('down_revision: str | Sequence[str] | None = "')[1].split('"')[0]
        chain[source.split('revision: str = "')[1].split('"')[0]] = path.stem
    assert chain[chain["add_appointments"]] == "add_patients"
    check_front_pages(project, "Acme API")


def test_generating_the_same_answers_twice_gives_the_same_files(generate):
    first, second = generate(CLINIC), generate(CLINIC)
    files = project_files(first)
    assert files == project_files(second)
    different = {name for name in files if not filecmp.cmp(first / name, second / name, shallow=False)}
    assert different == {".env"}


def test_no_entities_leaves_auth_and_users_only(generate):
    project = generate("entities=")
    modules = sorted(path.name for path in (project / "modules").iterdir() if path.is_dir())
    assert modules == ["admin", "auth", "users"]
    check_front_pages(project, "Acme API")


# The template's examples of a whole service (docs/create-a-service.md), run as they are, with the
# project folder they make and the entities' modules it must hold.
SERVICE_EXAMPLES = {
    "clinic-booking.sh": ("clinic-booking", {"appointments", "patients", "people", "tags"}),
    "create-a-service.sh": ("order-desk", {"orders", "order_lines", "organizations"}),
}


@pytest.fixture(scope="module")
def examples_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user's HOME for the examples: the lock's ruff, installed into its cache once, serves both."""
    return tmp_path_factory.mktemp("examples-home")


@pytest.mark.parametrize("example", list(SERVICE_EXAMPLES))
def test_the_create_a_service_examples_make_their_service(tmp_path, examples_home, example):
    """bash runs the example in an empty folder, with TEMPLATE naming this checkout and the
    template tests' cookiecutter first on PATH (their `make test` is the variants' concern)."""
    folder, modules = SERVICE_EXAMPLES[example]
    out = tmp_path / "out"
    out.mkdir()
    env = user_env(examples_home, TEMPLATE=str(ROOT), MODULITH_NO_GIT="1")
    env["PATH"] = os.pathsep.join([str(ensure_cookiecutter().parent), env["PATH"]])
    result = subprocess.run(
        ["bash", str(ROOT / "docs/examples" / example)],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path.name for path in out.iterdir()] == [folder]
    made = {path.name for path in (out / folder / "modules").iterdir() if path.is_dir()}
    assert modules <= made, sorted(made)


def test_generation_makes_a_git_repository_with_one_commit_by_the_author(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    answers = ("author_name=Ada Lovelace", "author_email=ada@example.org")
    result = run_cookiecutter(str(ROOT), *answers, cwd=out, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("git: made a repository with a first commit")
    project = out / "acme-api"
    git = ["git", "-C", str(project)]
    log = subprocess.run([*git, "log", "--format=%an <%ae>"], capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == ["Ada Lovelace <ada@example.org>"]
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=True)
    assert status.stdout == ""
    tracked = subprocess.run([*git, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    assert ".env" not in tracked
    assert ".cruft.json" in tracked


def test_modulith_no_git_skips_the_repository(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run_cookiecutter(str(ROOT), cwd=out, home=tmp_path, MODULITH_NO_GIT="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "git: skipped (MODULITH_NO_GIT is set)"
    assert not (out / "acme-api" / ".git").exists()


def test_generation_without_git_is_a_note_not_a_failure(tmp_path):
    # A PATH with python alone: the cookiecutter script and hooks run, git is not found.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    out = tmp_path / "out"
    out.mkdir()
    result = run_cookiecutter(str(ROOT), cwd=out, home=tmp_path, PATH=str(bin_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("git: not found")
    assert not (out / "acme-api" / ".git").exists()
    assert (out / "acme-api" / "core" / "app.py").is_file()


def test_plain_cookiecutter_from_a_checkout_records_it_for_cruft(default_project):
    state = json.loads((default_project / ".cruft.json").read_text())
    assert state["template"] == str(ROOT)
    assert state["commit"] == head_commit(ROOT)
    answers = state["context"]["cookiecutter"]
    assert answers["project_slug"] == "acme-api"
    assert answers["entities"] == "items"
    assert not {"_output_dir", "_repo_dir"} & set(answers)


# Words with "admin" in them that are not the admin site: this code calls a superuser an admin.
UNRELATED_ADMIN_WORDS = re.compile(
    r"admin\d?|Admin|ADMIN|_admin|other_admin(\.id|\.is_superuser)?|admin_account|admin\.(connect|dispose)|is_admin"
    r"|administration|\w+_administer|ADMIN_(EMAIL|PASSWORD|ENDPOINTS)"
)
UNRELATED_ADMIN_FILES = {"tests/users/test_admin.py"}  # the API's superuser endpoints


def test_admin_no_leaves_nothing_of_the_admin_site(generate):
    project = generate("admin=no", "entities=items, tags(name:str:40:unique owned=no)")
    leftovers = []
    for path in project.rglob("*"):
        name = str(path.relative_to(project))
        # .cruft.json records the answers (admin: no) and where the template is. The entity
        # scaffold renders an entity's admin views where the service has the admin module, and
        # none here: it asks the service's folders, so it is the same in every service.
        parts = path.relative_to(project).parts
        if parts[0] in {".git", "scaffold"} or name == ".cruft.json" or not path.is_file():
            continue
        if "admin" in name.lower() and name not in UNRELATED_ADMIN_FILES:
            leftovers.append(name)
        for word in re.findall(r"[\w./-]*admin[\w.-]*", path.read_text(errors="ignore"), re.IGNORECASE):
            if not UNRELATED_ADMIN_WORDS.fullmatch(word):
                leftovers.append(f"{name}: {word}")
    assert leftovers == []
    # The admin's pages and screenshot go with its folder.
    assert not (project / "modules/admin").exists()
    assert not (project / "docs/admin.png").exists()
    check_front_pages(project, "Acme API")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert not [dependency for dependency in pyproject["project"]["dependencies"] if "admin" in dependency]
    assert "greenlet" not in (project / "requirements.lock").read_text()


def test_tenancy_user_leaves_nothing_of_organizations(default_project):
    leftovers = []
    for path in default_project.rglob("*"):
        name = str(path.relative_to(default_project))
        # The entity scaffold offers owned=org where the service has the organizations module, and
        # refuses it here: it asks the service's tables, so it is the same in every service.
        if (
            path.relative_to(default_project).parts[0] in {".git", "scaffold"}
            or name == ".cruft.json"
            or not path.is_file()
        ):
            continue
        if "organization" in name.lower():
            leftovers.append(name)
        for line in path.read_text(errors="ignore").splitlines():
            if "organization" in line.lower():
                leftovers.append(f"{name}: {line.strip()}")
    assert leftovers == []
    assert not (default_project / "modules/organizations").exists()
    assert "mounted_under" not in (default_project / "modules/items/manifest.py").read_text()


def core_files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in (root / "core").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_core_is_the_same_whatever_the_answers(generate):
    """Core knows no module: an answer adds or removes module folders and whole lines of settings
    and dependency files, and never edits core."""
    expected = core_files(ROOT)
    for answers in (("admin=no", "tenancy=user"), ("admin=yes", "tenancy=organization")):
        found = core_files(generate(*answers, "entities=items, tags(name:str:40:unique owned=no)"))
        assert sorted(found) == sorted(expected), answers
        assert [name for name in expected if found[name] != expected[name]] == [], answers


def test_tenancy_organization_gives_the_entities_to_organizations(generate):
    project = generate("tenancy=organization", "entities=items, tags(name:str:40:unique owned=no)")
    assert (project / "modules/organizations/api.py").is_file()
    assert list((project / "migrations/versions").glob("*organizations*.py"))
    items = project / "modules/items"
    models = (items / "models.py").read_text()
    assert 'organization_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")' in models
    assert "owner_id" not in models
    assert (
        "manifest = Manifest(router=router, mounted_under=IN_ORGANIZATION)"
        in (items / "manifest.py").read_text()
    )
    assert (
        "ItemInOrganization = Annotated[Item, in_organization(Item)]"
        in (items / "dependencies.py").read_text()
    )
    assert "organization" not in (project / "modules/tags/models.py").read_text()
    # The teams' pages come with the module's folder, and the site's navigation finds them there.
    assert (project / "modules/organizations/README.md").is_file()
    check_front_pages(project, "Acme API")
    # The entity template keeps its organizations' branch: `make entity owned=org` works there.
    assert "in_organization" in (project / "scaffold/templates/module/router.py.jinja").read_text()
