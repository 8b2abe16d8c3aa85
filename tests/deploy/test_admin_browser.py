"""/admin in a real browser with no way out, as the /docs test does (Chromium driven by selenium,
every host but 127.0.0.1 unresolvable): sign in, list, search and edit a row, see a form error,
queue a dead job again, deactivate an account and see its token refused, sign out and see a copy
of the cookie refused; a bad password, a non-superuser and a forged cross-site form are refused.
No request leaves the service and the console shows no content security policy violation.

The rows listed and edited are the first entity's (by name) that has a text column to search:
items in the template, whatever the service has beside.

Screenshots of the list, edit and error pages are written to the test's tmp dir; the list's,
admin.png, also to SCREENSHOTS (a directory) when it is set: `make screenshots` retakes
docs/admin.png so.
"""

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session

from core.crud import table_of
from core.db import create_db_engine
from core.jobs import enqueue
from core.jobs.models import JobStatus
from modules.admin.entities import EntityView
from modules.admin.pages import found_pages
from modules.users.schemas import UserCreate
from modules.users.service import create_user
from tests.deploy import test_docs_offline
from tests.deploy.servers import Service, free_port, service_env
from tests.deploy.test_docs_offline import LOCAL_SCHEMES, WAIT_SECONDS, requests_sent, wait_for
from tests.helpers import PASSWORD, insert_row, make_settings, migrate

pytestmark = pytest.mark.slow

# The /docs test's headless Chromium, with every host but 127.0.0.1 unresolvable.
browser = test_docs_offline.browser

ROOT_EMAIL, ALICE_EMAIL = "root@example.com", "alice@example.com"
# What the searched column of the entity's three rows holds: a to-do list's, as docs/admin.png shows.
WORDS = ["Buy milk", "Walk the dog", "Read a book"]


def _entity() -> type[EntityView] | None:
    views = [
        view
        for found in found_pages().values()
        for view in found.views
        if issubclass(view, EntityView) and view.column_searchable_list
    ]
    return min(views, key=lambda view: view.identity, default=None)


ENTITY = _entity()
SEARCHED = str(ENTITY.column_searchable_list[0]) if ENTITY else ""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service on a database holding a superuser, an account owning the entity's rows, and a
    dead job."""
    directory = tmp_path_factory.mktemp("admin")
    url = f"sqlite:///{directory / 'app.db'}"
    settings = make_settings(url)
    engine = create_db_engine(settings)
    migrate(engine)
    with Session(engine) as session:
        rounds = settings.BCRYPT_ROUNDS
        root_in = UserCreate(email=ROOT_EMAIL, password=PASSWORD, is_superuser=True)
        create_user(session=session, user_in=root_in, rounds=rounds)
        alice_in = UserCreate(email=ALICE_EMAIL, password=PASSWORD)
        alice = create_user(session=session, user_in=alice_in, rounds=rounds)
        if ENTITY is not None:
            for word in WORDS:
                insert_row(session, table_of(ENTITY.model).name, **{SEARCHED: word}, owner_id=alice.id)
        job = enqueue(session, "reports.render", {"report_id": "42"})
        job.status, job.attempts = JobStatus.DEAD, 8
        job.last_error = "TimeoutError: the report server is gone"
        session.commit()
    engine.dispose()
    # No runner: a queued job stays queued where the test can see it. Sign-ins are many here;
    # their limit has a test of its own.
    env = service_env(url, JOBS_IN_PROCESS="false", RATE_LIMIT_LOGIN="100/minute", LOG_LEVEL="INFO")
    service = Service.uvicorn(env, directory / "service.log")
    try:
        service.wait_ready()
        yield service
    finally:
        service.close()


def api_token(service: Service, email: str) -> str:
    r = httpx.post(f"{service.url}/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def sign_in(browser: WebDriver, service: Service, email: str = ROOT_EMAIL, password: str = PASSWORD) -> None:
    browser.get(f"{service.url}/admin/login")
    wait_for(browser, "#username").send_keys(email)
    browser.find_element(By.CSS_SELECTOR, "#password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def signed_in(browser: WebDriver, service: Service) -> None:
    sign_in(browser, service)
    WebDriverWait(browser, WAIT_SECONDS).until(ec.url_to_be(f"{service.url}/admin/"))


def search(browser: WebDriver, words: str) -> None:
    """Search the list shown, and wait for its answer. On a loaded machine the page may still be
    replacing its elements when they are first found (a stale element): type and press again."""

    def submitted(browser: WebDriver) -> bool:
        try:
            box = browser.find_element(By.CSS_SELECTOR, "#search-input")
            box.clear()
            box.send_keys(words)
            browser.find_element(By.CSS_SELECTOR, "#search-button").click()
        except (StaleElementReferenceException, NoSuchElementException):
            return False
        return True

    WebDriverWait(browser, WAIT_SECONDS).until(submitted)
    WebDriverWait(browser, WAIT_SECONDS).until(ec.url_contains(f"search={words}"))


def click_row_action(browser: WebDriver, action: str) -> str:
    """Press a row's button; the message the page it leads to shows. The page before may show
    the last action's message: wait for it to be replaced (the post redirects), then read the
    new one, again if that page is still being rebuilt (a stale element on a loaded machine)."""
    before = browser.find_element(By.TAG_NAME, "html")
    wait_for(browser, f"#row-actions button[value={action}]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(ec.staleness_of(before))

    def message(browser: WebDriver) -> str | bool:
        try:
            toast = browser.find_element(By.CSS_SELECTOR, ".admin-toast .toast-body")
            return str(toast.text) if toast.is_displayed() else False
        except (StaleElementReferenceException, NoSuchElementException):
            return False

    return str(WebDriverWait(browser, WAIT_SECONDS).until(message))


def screenshot(browser: WebDriver, tmp_path: Path, name: str) -> None:
    """Only the shot the docs show leaves the tmp dir: the others would lie unused beside it."""
    browser.save_screenshot(str(tmp_path / name))
    if os.environ.get("SCREENSHOTS") and name == "admin.png":
        shutil.copy(tmp_path / name, Path(os.environ["SCREENSHOTS"]) / name)


def assert_offline_and_within_policy(browser: WebDriver, service: Service, *, also: str = "") -> None:
    """Nothing was fetched from anywhere but the service (and `also`), and nothing broke the policy."""
    allowed = tuple(origin for origin in (f"{service.url}/", also) if origin)
    outside = [
        url
        for url in requests_sent(browser)
        if urlsplit(url).scheme not in LOCAL_SCHEMES and not url.startswith(allowed)
    ]
    assert outside == []
    console = [entry["message"] for entry in browser.get_log("browser")]
    assert [message for message in console if "Content Security Policy" in message] == [], console


def test_a_bad_password_and_a_non_superuser_get_the_same_refusal(
    browser: WebDriver, service: Service
) -> None:
    for email, password in ((ROOT_EMAIL, "not the password"), (ALICE_EMAIL, PASSWORD)):
        sign_in(browser, service, email, password)
        refusal = wait_for(browser, "#sign-in-error")
        assert refusal.text == "Invalid credentials."
        assert browser.current_url == f"{service.url}/admin/login"
    browser.get(f"{service.url}/admin/item/list")
    assert browser.current_url == f"{service.url}/admin/login"
    assert_offline_and_within_policy(browser, service)


def test_rows_are_listed_searched_and_edited_and_a_bad_value_is_refused(
    browser: WebDriver, service: Service, tmp_path: Path
) -> None:
    if ENTITY is None:
        pytest.skip("this service has no entity with a text column to search")
    owned = "owner_id" in table_of(ENTITY.model).columns
    signed_in(browser, service)
    browser.get(f"{service.url}/admin/{ENTITY.identity}/list")
    rows = wait_for(browser, "table tbody")
    assert all(word in rows.text for word in WORDS)
    assert ALICE_EMAIL in rows.text or not owned  # the owner, by the account's email
    screenshot(browser, tmp_path, "admin.png")

    search(browser, "dog")
    rows = wait_for(browser, "table tbody")
    assert "dog" in rows.text
    assert "milk" not in rows.text

    browser.find_element(By.CSS_SELECTOR, f"a[href*='/admin/{ENTITY.identity}/edit/']").click()
    field = wait_for(browser, f"input[name={SEARCHED}]")
    screenshot(browser, tmp_path, "admin-edit.png")
    # Past what the page lets a person type: the service refuses it itself, as the API would.
    longest = int(field.get_attribute("maxlength") or 0)
    browser.execute_script("arguments[0].removeAttribute('maxlength')", field)
    field.clear()
    field.send_keys("x" * (longest + 1))
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value=Save]").click()
    assert str(longest) in wait_for(browser, ".invalid-feedback").text
    screenshot(browser, tmp_path, "admin-error.png")

    field = wait_for(browser, f"input[name={SEARCHED}]")
    field.clear()
    field.send_keys("dogs")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value=Save]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(ec.url_contains(f"/admin/{ENTITY.identity}/list"))
    assert "dogs" in wait_for(browser, "table tbody").text
    assert_offline_and_within_policy(browser, service)


def test_a_dead_job_is_queued_again(browser: WebDriver, service: Service) -> None:
    signed_in(browser, service)
    browser.get(f"{service.url}/admin/job/list?status=dead")
    rows = wait_for(browser, "table tbody")
    assert "TimeoutError: the report server is gone" in rows.text
    browser.find_element(By.CSS_SELECTOR, "a[href*='/admin/job/details/']").click()
    assert "Queued again" in click_row_action(browser, "requeue")
    assert "queued" in wait_for(browser, "table").text
    assert_offline_and_within_policy(browser, service)


def test_a_deactivated_users_token_is_refused_and_signing_out_ends_the_session(
    browser: WebDriver, service: Service
) -> None:
    token = api_token(service, ALICE_EMAIL)
    me = httpx.get(f"{service.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    signed_in(browser, service)
    browser.get(f"{service.url}/admin/user/list")
    search(browser, "alice")
    wait_for(browser, "a[href*='/admin/user/details/']").click()
    assert "is deactivated" in click_row_action(browser, "deactivate")

    me = httpx.get(f"{service.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    click_row_action(browser, "activate")  # leave the account as the other tests expect it

    # What someone who copied the cookie out of the browser holds: it opens pages until sign-out.
    copy = {"admin_session": browser.get_cookie("admin_session")["value"]}
    assert httpx.get(f"{service.url}/admin/user/list", cookies=copy).status_code == 200
    browser.find_element(By.CSS_SELECTOR, "a[href$='/admin/logout']").click()
    WebDriverWait(browser, WAIT_SECONDS).until(ec.url_to_be(f"{service.url}/admin/login"))
    browser.get(f"{service.url}/admin/user/list")
    assert browser.current_url == f"{service.url}/admin/login"
    refused = httpx.get(f"{service.url}/admin/user/list", cookies=copy)
    assert (refused.status_code, refused.headers["location"]) == (302, "/admin/login")
    assert_offline_and_within_policy(browser, service)


class _Attacker(BaseHTTPRequestHandler):
    """Another site's page (another loopback port) with a form aimed at the admin: what a forged
    cross-site post looks like. It cannot know the session's form token."""

    target = ""

    def do_GET(self) -> None:
        page = (
            f'<form method="post" action="{self.target}"><input name="csrf_token" value="guessed">'
            '<button id="go">Win a prize</button></form>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *_args: object) -> None:
        pass


def test_a_forged_cross_site_form_is_refused(browser: WebDriver, service: Service) -> None:
    alice = httpx.get(
        f"{service.url}/api/v1/users/me",
        headers={"Authorization": f"Bearer {api_token(service, ALICE_EMAIL)}"},
    ).json()
    signed_in(browser, service)
    attacker = ThreadingHTTPServer(("127.0.0.1", free_port()), _Attacker)
    _Attacker.target = f"{service.url}/admin/user/run/deactivate/{alice['id']}"
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{attacker.server_address[1]}"
    try:
        browser.get(f"{origin}/")
        wait_for(browser, "#go").click()
        WebDriverWait(browser, WAIT_SECONDS).until(ec.url_to_be(_Attacker.target))
        assert "did not come from this site" in browser.page_source
    finally:
        attacker.shutdown()
        attacker.server_close()
    login = httpx.post(
        f"{service.url}/api/v1/auth/login", data={"username": ALICE_EMAIL, "password": PASSWORD}
    )
    assert login.status_code == 200  # still active
    assert_offline_and_within_policy(browser, service, also=f"{origin}/")
