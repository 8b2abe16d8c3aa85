"""The docs site: built strictly from docs/ and the modules' own pages (core/modulith/site.py).

The project's own site is built in process, as `make docs-build` builds it; the strictness is
shown on a small site of the same shape, where a broken link and a page left out must fail.
"""

import logging
import os
import shutil
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from core.modulith.site import module_pages

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def build_site(project: Path, site: Path) -> None:
    build(load_config(str(project / "mkdocs.yml"), site_dir=str(site)))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    build_site(ROOT, site)
    return site


def test_every_module_with_a_readme_has_its_pages_on_the_site(built: Path) -> None:
    pages = module_pages(ROOT)
    assert pages, "no module has a README.md"
    for name, files in pages.items():
        assert (built / "modules" / name / "index.html").is_file()
        for page in files[1:]:
            assert (built / Path(page).with_suffix("") / "index.html").is_file()


def test_a_module_page_links_to_the_topic_pages_on_the_site(tmp_path: Path) -> None:
    project = small_site(tmp_path, readme="# Orders\n\nSee [Deploy](../../docs/deploy.md#proxies).\n")
    build_site(project, tmp_path / "site")
    html = (tmp_path / "site/modules/orders/index.html").read_text()
    assert 'href="../../deploy/#proxies"' in html
    # The navigation gets one entry per module, where mkdocs.yml says `modules/*`.
    home = (tmp_path / "site/index.html").read_text()
    assert home.index("Orders") < home.index("Deploy")


@pytest.mark.parametrize(
    ("readme", "problem"),
    [
        ("# Orders\n\nSee [Deploy](../../docs/deploy.md#nowhere).\n", "an anchor '#nowhere'"),
        ("# Orders\n\nSee [Gone](../../docs/gone.md).\n", "gone.md"),
    ],
)
def test_a_broken_link_fails_the_build(
    tmp_path: Path, readme: str, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    project = small_site(tmp_path, readme=readme)
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        build_site(project, tmp_path / "site")
    assert problem in caplog.text


def test_a_page_left_out_of_the_navigation_fails_the_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = small_site(tmp_path, readme="# Orders\n")
    (project / "docs/forgotten.md").write_text("# Forgotten\n")
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        build_site(project, tmp_path / "site")
    assert "forgotten.md" in caplog.text


def small_site(tmp_path: Path, *, readme: str) -> Path:
    """A project with the real mkdocs.yml settings and hook, two pages and one module."""
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "core/modulith").mkdir(parents=True)
    shutil.copy(ROOT / "core/modulith/site.py", project / "core/modulith/site.py")
    (project / "modules/orders").mkdir(parents=True)
    (project / "modules/orders/README.md").write_text(readme)
    (project / "docs/index.md").write_text("# Home\n")
    (project / "docs/deploy.md").write_text("# Deploy\n\n## Proxies\n")
    config = (ROOT / "mkdocs.yml").read_text().split("\nnav:\n")[0]
    (project / "mkdocs.yml").write_text(f"{config}\nnav:\n  - index.md\n  - modules/*\n  - deploy.md\n")
    return project
