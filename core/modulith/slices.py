"""Which tests to run for one module, or for what changed since a git ref.

- `--module orders`: `tests/orders`, against an app that mounts only orders, the modules it
  depends on and what core stands on (`ModuleMap.slice`, passed on in MODULES), as
  Spring Modulith's module tests bootstrap one module and its dependencies.
- `--changed origin/main`: the tests of every module whose files changed, and of every module
  that depends on one whose `api` or `events` changed; core's tests (every test folder that is
  no module's) when anything else changed; everything when what every test stands on changed
  (the dependencies, the test fixtures).
"""

import subprocess
from pathlib import Path

from core.modulith.graph import PACKAGE, PUBLIC_PARTS, ModuleMap

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


def changed_tests(root: Path, modules: ModuleMap, files: list[str]) -> list[str]:
    if EVERYTHING & set(files):
        return [TESTS]
    affected: set[str] = set()
    core = False
    for name in files:
        parts = Path(name).parts
        if len(parts) > 2 and parts[0] in {PACKAGE, TESTS} and parts[1] in modules.modules:
            affected.add(parts[1])
            if parts[0] == PACKAGE and len(parts) == 3 and Path(parts[2]).stem in PUBLIC_PARTS:
                affected |= {
                    other for other, module in modules.modules.items() if parts[1] in module.dependencies
                }
        else:
            core = True
    return [*(core_tests(root, modules) if core else []), *module_tests(root, sorted(affected))]
