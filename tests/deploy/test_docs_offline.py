"""/docs and /redoc in a real browser with no way out: Chromium (Debian's, driven by selenium)
against the service on loopback, every other host unresolvable. The pages load only the
service's own assets, and Authorize (OAuth2 password flow) signs in and calls an endpoint.

A screenshot of /docs, signed in, is written to the test's tmp dir, and to SCREENSHOTS
(a directory) when it is set: `make screenshots` retakes docs/api-docs.png so."""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from core.db import create_db_engine
from tests.deploy.servers import Service, service_env
from tests.helpers import PASSWORD, make_settings, migrate, require_server

# Starts a server and a browser: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

EMAIL = "swagger@example.com"
# Pages served by the browser itself, not fetched from anywhere.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}
WAIT_SECONDS = 30
# Debian's (what .ci/run installs), Ubuntu's, or the Chrome that GitHub's runners come with.
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("docs")
    url = f"sqlite:///{directory / 'app.db'}"
    engine = create_db_engine(make_settings(url))
    migrate(engine)
    engine.dispose()
    service = Service.uvicorn(service_env(url, LOG_LEVEL="INFO"), directory / "service.log")
    try:
        service.wait_ready()
        r = httpx.post(f"{service.url}/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD})
        assert r.status_code == 201, r.text
        yield service
    finally:
        service.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium that can resolve 127.0.0.1 and nothing else, logging every request."""
    chromium = next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        require_server("Chromium and its driver are not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # The driver named explicitly: selenium then never looks for (or downloads) one.
    session = webdriver.Chrome(options=options, service=DriverService(executable_path=driver))
    try:
        yield session
    finally:
        session.quit()


def requests_sent(browser: WebDriver) -> list[str]:
    """Every URL the page asked for since the last call, less those the page's content security
    policy stopped before they were sent (from the DevTools protocol's network events)."""
    urls: dict[str, str] = {}
    stopped: set[str] = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason") == "csp":
            stopped.add(params["requestId"])
    return [url for request, url in urls.items() if request not in stopped]


def assert_nothing_left_the_service(urls: list[str], service: Service) -> None:
    outside = [
        url
        for url in urls
        if urlsplit(url).scheme not in LOCAL_SCHEMES and not url.startswith(service.url + "/")
    ]
    assert f"{service.url}/openapi.json" in urls
    assert outside == []


def assert_no_script_was_refused(browser: WebDriver) -> None:
    """The page ran under its content security policy (no inline script but its own, named by
    its hash) without the browser refusing any of its scripts: a refusal is logged to the
    console. (ReDoc's attempt at its CDN's logo is refused on purpose.)"""
    refused = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] and "script" in entry["message"]
    ]
    assert refused == []


def screenshot(browser: WebDriver, tmp_path: Path, name: str) -> None:
    browser.save_screenshot(str(tmp_path / name))
    if os.environ.get("SCREENSHOTS"):
        shutil.copy(tmp_path / name, Path(os.environ["SCREENSHOTS"]) / name)


def wait_for(browser: WebDriver, selector: str) -> WebElement:
    found: WebElement = WebDriverWait(browser, WAIT_SECONDS).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, selector))
    )
    return found


def test_swagger_ui_signs_in_through_authorize_and_calls_an_endpoint_offline(
    browser: WebDriver, service: Service, tmp_path: Path
) -> None:
    browser.get(f"{service.url}/docs")
    wait_for(browser, ".swagger-ui button.authorize").click()
    wait_for(browser, "#oauth_username").send_keys(EMAIL)
    browser.find_element(By.CSS_SELECTOR, "#oauth_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    signed_in = ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize"), "Logout"
    )
    WebDriverWait(browser, WAIT_SECONDS).until(signed_in)
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.btn-done").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        ec.invisibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux"))
    )
    screenshot(browser, tmp_path, "api-docs.png")  # the operations, every lock closed

    wait_for(browser, "#operations-users-users-read-me .opblock-summary").click()
    wait_for(browser, "#operations-users-users-read-me .try-out__btn").click()
    wait_for(browser, "#operations-users-users-read-me .execute").click()
    status = WebDriverWait(browser, WAIT_SECONDS).until(
        ec.visibility_of_element_located(
            (
                By.CSS_SELECTOR,
                "#operations-users-users-read-me .live-responses-table tbody .response-col_status",
            )
        )
    )

    assert status.text.strip().startswith("200"), browser.page_source[-2000:]
    body = browser.find_element(By.CSS_SELECTOR, "#operations-users-users-read-me .live-responses-table pre")
    assert json.loads(body.text)["email"] == EMAIL
    urls = requests_sent(browser)
    assert f"{service.url}/api/v1/auth/login" in urls
    assert_nothing_left_the_service(urls, service)
    assert_no_script_was_refused(browser)


def test_redoc_renders_the_api_offline(browser: WebDriver, service: Service) -> None:
    title = httpx.get(f"{service.url}/openapi.json").json()["info"]["title"]  # PROJECT_NAME
    browser.get(f"{service.url}/redoc")
    WebDriverWait(browser, WAIT_SECONDS).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "h1"), title)
    )

    assert "users-read-me" in browser.page_source or "/api/v1/users/me" in browser.page_source
    assert_nothing_left_the_service(requests_sent(browser), service)
    assert_no_script_was_refused(browser)
