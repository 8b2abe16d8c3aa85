"""Refuse bad answers before anything is written (rendered by cookiecutter, then run)."""

import json
import sys

sys.path.insert(0, "{{ template_root }}")

from hooks.generate import validate

problem = validate(json.loads(r"""{{ cookiecutter | jsonify }}"""))
if problem:
    print(f"error: {problem}", file=sys.stderr)
    sys.exit(1)
