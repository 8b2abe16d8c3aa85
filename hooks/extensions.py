"""Tell the hooks where the template lives, and refuse bad answers before anything happens.

Cookiecutter gives hooks `_repo_dir` exactly as the user typed it, which may be relative to a
working directory the hooks no longer run in. This module is imported (as a Jinja extension)
while cookiecutter still runs in the caller's directory, so its own absolute path is the
template's root, whichever way the template was given.

It also runs inside cookiecutter's own process, which the hooks do not: a refusal here can end
generation with one `error:` line. A failing hook always ends with cookiecutter's traceback.
"""

import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


def refuse_bad_answers(answers: dict[str, Any]) -> str:
    """Used by `cookiecutter.json` once every answer is in: nothing, or exit with the reason."""
    from hooks.generate import validate  # the scaffold it needs is importable only from here

    problem = validate(dict(answers))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(1)
    return ""


class TemplateRoot(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = str(TEMPLATE_ROOT)
        environment.filters["refuse_bad_answers"] = refuse_bad_answers
