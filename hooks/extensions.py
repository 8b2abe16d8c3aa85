"""Tell the hooks where the template lives.

Cookiecutter gives hooks `_repo_dir` exactly as the user typed it, which may be relative to a
working directory the hooks no longer run in. This module is imported (as a Jinja extension)
while cookiecutter still runs in the caller's directory, so its own absolute path is the
template's root, whichever way the template was given.
"""

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


class TemplateRoot(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = str(TEMPLATE_ROOT)
