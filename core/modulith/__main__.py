"""`python -m core.modulith verify | document [--check] | test (--module NAME | --changed REF) [...]`:
`document` draws docs/modules.md and the reference pages (`document.pages`), `--check` names each
one that is stale; the arguments after `test`'s own go to pytest."""

import argparse
import json
import os
import sys
from pathlib import Path

from core.modulith.document import DOCUMENT, stale, write
from core.modulith.graph import ModuleMap
from core.modulith.slices import changed_files, changed_tests, module_tests
from core.modulith.verify import violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.modulith", description="The module map.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("verify", help="check the boundaries: one line per broken rule")
    document = commands.add_parser("document", help=f"write {DOCUMENT} and the reference pages")
    document.add_argument("--check", action="store_true", help="only name the pages that are stale")
    test = commands.add_parser("test", help="run one module's tests, or those of what changed")
    which = test.add_mutually_exclusive_group(required=True)
    which.add_argument("--module", help="a module: its tests, on an app of it and its dependencies")
    which.add_argument("--changed", metavar="REF", help="a git ref: the tests of what changed since")
    arguments, rest = parser.parse_known_args(argv)
    root = Path.cwd()
    modules = ModuleMap.read(root)
    if arguments.command == "verify":
        problems = violations(modules)
        print("\n".join(problems) if problems else f"modules: {len(modules.modules)}, boundaries kept")
        return 1 if problems else 0
    if arguments.command == "document":
        if arguments.check:
            outdated = stale(root)
            print(
                "\n".join(f"{path} is stale: run make modules" for path in outdated)
                or "every page is current"
            )
            return 1 if outdated else 0
        written = write(root)
        print("\n".join(f"wrote {path}" for path in written) or "every page is current")
        return 0
    if arguments.module:
        if arguments.module not in modules.modules:
            print(f"modulith: no module {arguments.module!r} (modules: {', '.join(modules.modules)})")
            return 2
        # The app mounts the module and what it depends on (core.discovery reads MODULES).
        os.environ["MODULES"] = json.dumps(modules.slice([arguments.module]))
        tests = module_tests(root, [arguments.module])
    else:
        tests = changed_tests(root, modules, changed_files(root, arguments.changed))
    if not tests:
        print(f"modulith: no tests to run for what changed since {arguments.changed}")
        return 0
    mounted = f" (MODULES={os.environ['MODULES']})" if arguments.module else ""
    print(f"modulith: pytest {' '.join(tests)}{mounted}", flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *tests, *rest])  # noqa: S606 (our interpreter)
    return 0  # not reached: pytest has taken the process over


if __name__ == "__main__":
    sys.exit(main())
