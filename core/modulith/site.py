"""The docs site's hook (mkdocs.yml `hooks:`): each module's own pages join the site.

A module documents itself in its folder: `README.md` (which GitHub shows beside its code), and
any other `*.md` there, such as a reference page its `reference.py` draws. The site takes them
in at `modules/<name>/`, and the navigation's `modules/*` entry becomes one entry per module that
has pages, so an optional feature's pages come and go with its folder and nothing names them.

Written for GitHub as well as the site, a module's page links to the topic pages as
`../../docs/deploy.md`; on the site, docs/ is the root, so such links lose their `docs/`.
"""

import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

MODULES_ENTRY = "modules/*"
_DOCS_LINK = re.compile(r"\]\(\.\./\.\./docs/")


def module_pages(root: Path) -> dict[str, list[str]]:
    """{module: its pages, README.md first}, as paths from the project root, for every module
    folder with a README.md."""
    found: dict[str, list[str]] = {}
    for folder in sorted((root / "modules").iterdir()):
        if (folder / "README.md").is_file():
            others = sorted(path.name for path in folder.glob("*.md") if path.name != "README.md")
            found[folder.name] = [f"modules/{folder.name}/{name}" for name in ("README.md", *others)]
    return found


def _title(path: Path) -> str:
    heading = next((line for line in path.read_text().splitlines() if line.startswith("# ")), None)
    if heading is None:
        raise ValueError(f"{path}: a module's README.md starts with its `# ` title")
    return heading[2:].strip()


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = _root(config)
    entries: list[Any] = []
    for pages in module_pages(root).values():
        if len(pages) == 1:
            entries.append(pages[0])
        else:
            entries.append({_title(root / pages[0]): pages})
    nav = config.nav or []
    if MODULES_ENTRY not in nav:
        raise ValueError(f"mkdocs.yml: the nav has no `- {MODULES_ENTRY}` entry for the modules' pages")
    at = nav.index(MODULES_ENTRY)
    config.nav = [*nav[:at], *entries, *nav[at + 1 :]]
    config.watch.append(str(root / "modules"))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = _root(config)
    for pages in module_pages(root).values():
        for page in pages:
            files.append(File(page, str(root), config.site_dir, config.use_directory_urls))
    return files


def on_page_markdown(markdown: str, page: Page, **_: Any) -> str:
    if page.file.src_uri.startswith("modules/"):
        return _DOCS_LINK.sub("](../../", markdown)
    return markdown
