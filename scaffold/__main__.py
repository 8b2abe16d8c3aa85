"""`python -m scaffold add NAME [...]` and `python -m scaffold remove NAME`; `make entity` calls it."""

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from core.modulith.document import DOCUMENT
from scaffold import Ownership, remove, scaffold
from scaffold.names import ScaffoldError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other refusal of the command.
        self.exit(2, f"scaffold: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m scaffold", description="Add or remove an entity module.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="render a new entity module, its tests and its revision")
    add.add_argument("name", help="plural, snake_case: order_lines")
    add.add_argument("--singular", help="for irregular plurals: people -> person")
    add.add_argument("--fields", help='"order_id:ref:orders sku:str:40:unique quantity:int note:text?"')
    ownership = "; ".join(f"{choice}: {choice.meaning}" for choice in Ownership)
    add.add_argument("--owned", choices=[str(choice) for choice in Ownership], default="yes", help=ownership)
    add.add_argument("--dry-run", action="store_true", help="list the files, write nothing")
    drop = commands.add_parser("remove", help="remove an entity that has not been migrated")
    drop.add_argument("name")
    drop.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        if args.command == "add":
            paths = scaffold(
                root,
                args.name,
                args.singular,
                args.fields,
                ownership=Ownership(args.owned),
                dry_run=args.dry_run,
            )
        else:
            paths = remove(root, args.name, dry_run=args.dry_run)
    except ScaffoldError as exc:
        print(f"scaffold: error: {exc}", file=sys.stderr)
        return 2
    verb = "would " if args.dry_run else ""
    verb += "write" if args.command == "add" else "remove"
    for path in paths:
        print(f"{verb} {path}")
    if args.command == "remove":
        print(f"{'would ' if args.dry_run else ''}write {DOCUMENT}")
    if args.command == "add" and not args.dry_run:
        print("next: make migrate to create the table, make test to run its tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
