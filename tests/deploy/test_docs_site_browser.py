"""The documentation site (mkdocs.yml), built as `make docs-build` builds it, in a real browser
with no way out, as the /docs test does (Chromium driven by selenium, every host but 127.0.0.1
unresolvable): searching for a setting's name finds the settings reference, the page shows it,
the console stays clean and every request stays on loopback. And the built files load nothing
from another host, on the pages the browser does not open either.
"""

import functools
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from core.config import Settings
from tests.deploy import test_docs_offline
from tests.deploy.test_docs_offline import LOCAL_SCHEMES, WAIT_SECONDS, requests_sent, wait_for
from tests.helpers import ROOT

# Builds the site and starts a browser: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

# The /docs test's headless Chromium, with every host but 127.0.0.1 unresolvable.
browser = test_docs_offline.browser

# A field of core's Settings, searched for by its name: the reference page is drawn from the code
# (`make modules`), so the name is found there whatever prose the other pages have.
SETTING = "JOBS_LEASE_SECONDS"
# Where the settings reference (docs/reference/settings.md) is built, with directory URLs.
SETTINGS_PAGE = "reference/settings/"

# Hosts of the CDNs a theme or a page most often loads from, unnoticed until offline.
CDN_HOSTS = re.compile(r"fonts\.googleapis|fonts\.gstatic|unpkg\.com|cdn\.jsdelivr|cdnjs\.cloudflare")
# Material's bundle names unpkg for two fallbacks it fetches only when needed: a ResizeObserver
# polyfill for browsers without one (every current browser has it), and mermaid for a page
# with a diagram (checked below: none has one). Anything else on a CDN in a script is new.
MATERIAL_FALLBACKS = ("unpkg.com/resize-observer-polyfill", "unpkg.com/mermaid")
# <link> relations that name another page rather than load anything into this one.
NAVIGATION_LINKS = {"canonical", "alternate", "next", "prev", "author", "license", "help"}
# Attributes whose URL the browser fetches as it renders the tag.
LOADED = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
}
# A URL loaded from a stylesheet (@import, url()), absolute or scheme-relative.
CSS_OUTSIDE = re.compile(r"""(@import\s+|url\(\s*)["']?(https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `make docs-build` builds it (strictly: a warning fails), in a folder of its own."""
    directory = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(directory)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return directory


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    """The built folder over HTTP on loopback: search fetches its index, which file:// refuses."""

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

    # Port 0: the system picks a free one, so nothing can take it between choosing and binding.
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Loads(HTMLParser):
    """What a page makes the browser fetch: the URLs of its loading tags and attributes, and the
    text of its inline scripts and styles. Links (<a href>) are followed only when clicked."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self.mermaid = False
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and not set(values.get("rel", "").lower().split()) <= NAVIGATION_LINKS:
            self.urls.append(values.get("href", ""))
        for attribute in LOADED.get(tag, ()):
            if attribute in values:
                self.urls.extend(part.split()[0] for part in values[attribute].split(",") if part.strip())
        if "style" in values:
            self.inline.append(values["style"])
        self.mermaid |= "mermaid" in values.get("class", "").split()
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.inline.append(data)


def outside(url: str) -> bool:
    """A URL that names another host (absolute or scheme-relative); relative ones stay on the site."""
    return bool(urlsplit(url.strip()).netloc)


def fetched_from_outside(text: str) -> list[str]:
    """What a stylesheet, an inline style or an inline script would fetch from another host."""
    return [match.group() for pattern in (CSS_OUTSIDE, CDN_HOSTS) for match in pattern.finditer(text)]


def test_the_built_site_loads_nothing_from_another_host(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert site / "index.html" in pages
    assert (site / SETTINGS_PAGE / "index.html").is_file()
    found: list[str] = []
    for page in pages:
        loads = _Loads()
        loads.feed(page.read_text(encoding="utf-8"))
        name = page.relative_to(site)
        found += [f"{name}: loads {url}" for url in loads.urls if outside(url)]
        found += [f"{name}: inline {hit}" for text in loads.inline for hit in fetched_from_outside(text)]
        # A diagram would make Material's bundle fetch mermaid from unpkg (MATERIAL_FALLBACKS).
        if loads.mermaid:
            found.append(f"{name}: a mermaid diagram, which Material loads from unpkg")
    for stylesheet in site.rglob("*.css"):
        text = stylesheet.read_text(encoding="utf-8")
        found += [f"{stylesheet.relative_to(site)}: {hit}" for hit in fetched_from_outside(text)]
    # Source maps (*.js.map) are read by developer tools only, never by a page.
    for script in site.rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        found += [
            f"{script.relative_to(site)}: {text[m.start() : m.start() + 60]}"
            for m in CDN_HOSTS.finditer(text)
            if not text.startswith(MATERIAL_FALLBACKS, m.start())
        ]
    assert found == []


def test_searching_for_a_settings_name_finds_its_reference_page_offline(
    browser: WebDriver, site_url: str
) -> None:
    assert SETTING in Settings.model_fields  # the code's name, not the prose's
    browser.get(site_url)
    wait_for(browser, "input.md-search__input").click()
    browser.find_element(By.CSS_SELECTOR, "input.md-search__input").send_keys(SETTING)

    # Results come from a worker that fetches and indexes search/search_index.json first; the
    # list is drawn again when it is ready, so a link found just before may be gone: find again.
    reference = (
        By.CSS_SELECTOR,
        f".md-search-result a.md-search-result__link[href^='{site_url}{SETTINGS_PAGE}']",
    )

    def followed(browser: WebDriver) -> bool:
        link = ec.element_to_be_clickable(reference)(browser)
        if link:
            link.click()
        return bool(link)

    WebDriverWait(browser, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException]).until(followed)
    WebDriverWait(browser, WAIT_SECONDS).until(ec.url_contains(f"{site_url}{SETTINGS_PAGE}"))
    article = WebDriverWait(browser, WAIT_SECONDS).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "article.md-content__inner"))
    )
    assert SETTING in article.text

    urls = requests_sent(browser)
    assert f"{site_url}search/search_index.json" in urls  # the log saw the worker's fetch too
    elsewhere = [
        url for url in urls if urlsplit(url).scheme not in LOCAL_SCHEMES and not url.startswith(site_url)
    ]
    assert elsewhere == []
    console = browser.get_log("browser")
    assert [entry["message"] for entry in console if entry["level"] == "SEVERE"] == []
    assert [entry["message"] for entry in console if "Content Security Policy" in entry["message"]] == []
