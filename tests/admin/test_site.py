"""The site as a whole: what discovery mounts, the content security policy on every answer, no
inline script in any page, and ADMIN_ENABLED=false leaving nothing behind."""

import re
import subprocess
import sys
from types import ModuleType

import pytest
from prometheus_client import REGISTRY
from starlette.routing import Mount

from core import discovery, metrics
from modules.admin.api import AdminPages
from modules.admin.pages import found_pages
from modules.admin.security import POLICY
from modules.auth.admin import sign_in
from tests.admin.helpers import assert_strict_page
from tests.helpers import ROOT

ASSETS = ["/admin/statics/js/main.js", "/admin/statics/css/tabler.min.css", "/admin/statics/admin.js"]


def test_the_policy_is_the_strict_one():
    directives = {
        name: sources.split() for name, sources in (part.split(maxsplit=1) for part in POLICY.split(";"))
    }
    assert directives["script-src"] == ["'self'"]
    # No host, no inline anything: the service's own files and (for images) data: URLs.
    assert {source for sources in directives.values() for source in sources} == {"'self'", "'none'", "data:"}


async def test_every_view_that_discovery_finds_is_in_the_menu(client, token):
    page = (await client.get("/admin/")).text
    pages = found_pages()
    assert {"auth", "users"} <= set(pages)
    found = {view.identity for found in pages.values() for view in found.views}
    assert set(re.findall(r'href="/admin/([\w-]+)/list"', page)) == found | {"job"}


def admin_files(monkeypatch, **pages):
    """Discovery finding an `admin.py` in these modules only, each holding `pages` (None: nothing)."""
    found = {}
    for name, value in pages.items():
        found[name] = module = ModuleType(f"modules.{name}.admin")
        if value is not None:
            module.pages = value
    monkeypatch.setattr(discovery, "import_parts", lambda part: found if part == "admin" else {})


TWO_SIGN_INS = {"auth": AdminPages(sign_in=sign_in), "gate": AdminPages(sign_in=sign_in)}


@pytest.mark.parametrize(
    ("pages", "refusal"),
    [
        ({"users": ["UserAdmin"]}, "modules/users/admin.py: pages is not a modules.admin.api.AdminPages"),
        (
            {"users": AdminPages(views=["UserAdmin"])},
            "modules/users/admin.py: pages.views holds 'UserAdmin', which is not an AdminView",
        ),
        ({"users": None}, "modules/users/admin.py: pages is not"),
        ({}, "/admin needs one module's admin.py to hand over sign_in; 0 do"),
        (TWO_SIGN_INS, "/admin needs one module's admin.py to hand over sign_in; 2 do: auth, gate"),
    ],
    ids=["not-pages", "not-a-view", "no-pages", "no-sign-in", "two-sign-ins"],
)
async def test_pages_the_site_cannot_use_stop_the_app_with_one_line(own_app, monkeypatch, pages, refusal):
    admin_files(monkeypatch, **pages)
    with pytest.raises(SystemExit, match=re.escape(refusal)):
        async with own_app():
            pass


async def test_pages_and_assets_carry_the_policy(client, token, superuser):
    # Each entity's list and forms are checked by its own tests (tests/<entity>/).
    for path in (
        "/admin/login",
        "/admin/user/list",
        f"/admin/user/details/{superuser.id}",
        "/admin/job/list",
    ):
        r = await client.get(path)
        assert_strict_page(r)
        assert r.headers["cache-control"] == "no-store"
    for path in ASSETS:
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == POLICY
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_a_refusal_and_a_missing_page_carry_the_policy_too(client, token):
    assert (await client.post("/admin/user/list", headers={"Origin": "http://x"})).headers[
        "content-security-policy"
    ] == POLICY
    r = await client.get("/admin/nothing/list")
    assert r.status_code == 404
    assert r.headers["content-security-policy"] == POLICY


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/login", *ASSETS])
async def test_admin_enabled_false_leaves_no_route_and_no_asset(own_app, path):
    async with own_app(ADMIN_ENABLED=False) as (app, client):
        assert not [route for route in app.routes if getattr(route, "path", "").startswith("/admin")]
        assert not [route for route in app.routes if isinstance(route, Mount) and route.name == "admin"]
        assert (await client.get(path)).status_code == 404


def test_admin_enabled_false_loads_nothing_of_sqladmin_nor_any_module_admin_views():
    probe = (
        "import sys\n"
        "from core.app import create_app\n"
        "from tests.helpers import make_settings\n"
        "create_app(make_settings('sqlite://', ADMIN_ENABLED=False))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sqladmin', 'modules.admin.site'))"
        " or m.split('.')[2:] == ['admin']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def counted(route: str) -> float:
    labels = {"route": route, "method": "GET", "status_class": "2xx"}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


async def test_pages_are_counted_by_their_route_not_as_unmatched(own_app):
    async with own_app(METRICS_ENABLED=True) as (_app, client):
        before = counted("/login"), counted(metrics.UNMATCHED)
        assert (await client.get("/admin/login")).status_code == 200
    assert (counted("/login"), counted(metrics.UNMATCHED)) == (before[0] + 1, before[1])
