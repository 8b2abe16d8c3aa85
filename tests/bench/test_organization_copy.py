"""Scenario 2b's service (`make bench`): a copy of this one whose items an organization owns,
rendered by the scaffold in a folder of the bench's own."""

from pathlib import Path

from bench.run import organization_project


def test_the_copy_renders_items_that_organizations_own(tmp_path: Path) -> None:
    project = organization_project(tmp_path)

    manifest = (project / "modules" / "items" / "manifest.py").read_text()
    assert "organization_id" in manifest
    assert (project / "docs" / "modules.md").is_file()  # the module map, redrawn for the copy
