"""Fill the new project from the template root (rendered by cookiecutter, then run in it)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, "{{ template_root }}")

from hooks.generate import generate

generate(
    project=Path.cwd(),
    template_root=Path("{{ template_root }}"),
    answers=json.loads(r"""{{ cookiecutter | jsonify }}"""),
)
