"""Cookiecutter hooks: the generated service is the repository root, adjusted to the answers."""
