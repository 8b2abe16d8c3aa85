"""The files a new user reads first stay true to the code."""

import re

from core.config import Settings
from tests.helpers import ROOT


def test_env_example_documents_every_setting_and_nothing_else():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert documented == set(Settings.model_fields)


def test_env_example_loads_as_settings(tmp_path):
    text = (ROOT / ".env.example").read_text()
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.FIRST_SUPERUSER_EMAIL is None
    (database_url,) = re.findall(r"^DATABASE_URL=(.*)$", text, flags=re.MULTILINE)
    assert database_url == settings.DATABASE_URL


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme
