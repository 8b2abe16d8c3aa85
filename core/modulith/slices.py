"""Which tests to run for one module, or for what changed since a git ref.

Both read the same graph (`ModuleMap`), whose dependencies are every coupling the code has: an
import of another module's `api` or `events`, a foreign key to another module's table.

- `--module orders`: `tests/orders`, against an app that mounts only orders, every module it
  depends on, directly or not, and what core stands on (`ModuleMap.slice`, passed on in MODULES),
  as Spring Modulith's module tests bootstrap one module and its dependencies.
- `--changed origin/main`: for any file of a module that changed, internal ones included, the
  tests of that module and of every module that depends on it, directly or not
  (`ModuleMap.dependents`): an internal edit changes what the public surface does, and a table's
  change reaches the rows that reference it. A changed test file runs its module's tests. Core's
  tests (every test folder that is no module's) run when anything else changed; everything runs
  when what every test stands on changed (the dependencies, the test fixtures and helpers, a
  module's test helpers among them).
"""

import subprocess
from pathlib import Path

from core.modulith.graph import PACKAGE, ModuleMap

TESTS = "tests"
# What every test stands on: a change here may change any test's outcome.
EVERYTHING = {"pyproject.toml", "requirements.lock", "tests/conftest.py", "tests/helpers.py"}


def module_tests(root: Path, names: list[str]) -> list[str]:
    return [f"{TESTS}/{name}" for name in names if (root / TESTS / name).is_dir()]


def core_tests(root: Path, modules: ModuleMap) -> list[str]:
    """Every test folder and file that belongs to no module."""
    return sorted(
        str(path.relative_to(root))
        for path in (root / TESTS).iterdir()
        if path.name not in modules.modules
        and (path.is_dir() or (path.name.startswith("test_") and path.suffix == ".py"))
        and path.name != "__pycache__"
    )


def changed_files(root: Path, ref: str) -> list[str]:
    """Files that differ from `ref`, committed or not, and new files git does not ignore."""

    def git(*args: str) -> list[str]:
        result = subprocess.run(  # noqa: S603 (fixed arguments, git from PATH)
            ["git", *args],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        return [line for line in result.stdout.splitlines() if line]

    return sorted({*git("diff", "--name-only", ref), *git("ls-files", "--others", "--exclude-standard")})


def _shared(path: str, modules: ModuleMap) -> bool:
    """A helper in a module's test folder (`tests/<module>/helpers.py`): other folders' tests and the
    root fixtures may import it, so it counts as something every test stands on."""
    parts = Path(path).parts
    return (
        len(parts) > 2
        and parts[0] == TESTS
        and parts[1] in modules.modules
        and parts[-1].endswith(".py")
        and parts[-1] not in {"conftest.py", "__init__.py"}
        and not parts[-1].startswith("test_")
    )


def changed_tests(root: Path, modules: ModuleMap, files: list[str]) -> list[str]:
    if EVERYTHING & set(files) or any(_shared(name, modules) for name in files):
        return [TESTS]
    affected: set[str] = set()
    core = False
    for name in files:
        parts = Path(name).parts
        if len(parts) > 2 and parts[0] in {PACKAGE, TESTS} and parts[1] in modules.modules:
            affected.add(parts[1])
            if parts[0] == PACKAGE:
                affected |= set(modules.dependents(parts[1]))
        else:
            core = True
    return [*(core_tests(root, modules) if core else []), *module_tests(root, sorted(affected))]
