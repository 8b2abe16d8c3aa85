"""Nothing /admin answers is built from the Host header, which the client chooses: every link,
form, asset and redirect is a path on whatever host the browser asked. A forged Host (a proxy
that passes any, a poisoned cache) cannot point a page, or a sign-in form, at another site."""

import re

import httpx

from modules.users.models import User
from tests.admin.helpers import form_token, sign_in_to_admin
from tests.helpers import PASSWORD

FORGED = "evil.example"
# A browser posting from a page served under the forged name sends it as the origin: the form
# check compares the two, so only the pages' URLs are in question here.
AS_FORGED = {"Host": FORGED, "Origin": f"http://{FORGED}"}
URLS = re.compile(r'\b(?:href|src|action|data-url)="([^"]*)"')


def assert_paths_only(page: httpx.Response) -> list[str]:
    """Every URL the page holds is a path (or a fragment), none names a host; return them."""
    assert page.status_code == 200, page.text
    assert FORGED not in page.text
    urls = URLS.findall(page.text)
    assert urls
    assert [url for url in urls if not url.startswith(("/", "#")) or url.startswith("//")] == []
    return urls


def assert_relative_redirect(r: httpx.Response, to: str) -> None:
    assert r.status_code in (302, 303, 307), r.text
    assert r.headers["location"] == to


async def test_the_sign_in_page_and_its_assets(client):
    assert_relative_redirect(await client.get("/admin/", headers=AS_FORGED), "/admin/login")
    urls = assert_paths_only(await client.get("/admin/login", headers=AS_FORGED))
    assets = [url for url in urls if url.startswith("/admin/statics/")]
    assert len(assets) >= 5
    for asset in assets:
        assert (await client.get(asset, headers=AS_FORGED)).status_code == 200, asset


async def test_signing_in_and_out(client, superuser: User):
    login = await client.get("/admin/login", headers=AS_FORGED)
    form = {"username": superuser.email, "password": PASSWORD, "csrf_token": form_token(login.text)}
    assert_relative_redirect(await client.post("/admin/login", data=form, headers=AS_FORGED), "/admin/")
    assert_paths_only(await client.get("/admin/", headers=AS_FORGED))
    assert_relative_redirect(await client.get("/admin/logout", headers=AS_FORGED), "/admin/login")


async def test_lists_with_their_sorts_filters_and_pages(client, superuser, make_user):
    await sign_in_to_admin(client, superuser)
    for n in range(30):  # two pages of 25
        make_user(f"user{n}@example.com")
    urls = assert_paths_only(await client.get("/admin/user/list?is_active=true", headers=AS_FORGED))
    assert any("sortBy=email" in url for url in urls)
    assert any("page=2" in url for url in urls)
    assert any(url.startswith("/admin/user/details/") for url in urls)
    # A page past the last is sent to the last one.
    assert_relative_redirect(
        await client.get("/admin/user/list?page=9", headers=AS_FORGED), "/admin/user/list?page=2"
    )


async def test_a_rows_page_and_the_redirect_after_its_button(client, superuser, make_user):
    token = await sign_in_to_admin(client, superuser)
    gina = make_user("gina@example.com")
    assert_paths_only(await client.get(f"/admin/user/details/{gina.id}", headers=AS_FORGED))
    r = await client.post(
        f"/admin/user/run/deactivate/{gina.id}", data={"csrf_token": token}, headers=AS_FORGED
    )
    assert_relative_redirect(r, f"/admin/user/details/{gina.id}")
    assert "is deactivated" in (await client.get(r.headers["location"], headers=AS_FORGED)).text


async def test_without_the_slash_the_site_is_a_relative_redirect_away(client):
    r = await client.get("/admin", headers=AS_FORGED)
    assert_relative_redirect(r, "/admin/")
    assert_relative_redirect(await client.get(r.headers["location"], headers=AS_FORGED), "/admin/login")
