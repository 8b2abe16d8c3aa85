"""The site as a whole: what discovery mounts, the content security policy on every answer, no
inline script in any page, and ADMIN_ENABLED=false leaving nothing behind."""

import re

import pytest
from starlette.routing import Mount

from core import discovery
from core.admin.security import POLICY

ASSETS = ["/admin/statics/js/main.js", "/admin/statics/css/tabler.min.css", "/admin/statics/admin.js"]
# A script without `src`, or an event handler attribute: what the policy would refuse to run.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


def test_the_policy_is_the_strict_one():
    directives = {
        name: sources.split() for name, sources in (part.split(maxsplit=1) for part in POLICY.split(";"))
    }
    assert directives["script-src"] == ["'self'"]
    # No host, no inline anything: the service's own files and (for images) data: URLs.
    assert {source for sources in directives.values() for source in sources} == {"'self'", "'none'", "data:"}


async def test_every_module_with_an_admin_py_is_in_the_menu(client, token):
    page = (await client.get("/admin/")).text
    identities = set(re.findall(r'href="http://testserver/admin/([\w-]+)/list"', page))
    modules = {module.__name__.split(".")[1] for module in discovery.admin_modules()}
    assert modules == {"auth", "items", "users"}
    assert identities == {"auth-session", "item", "user", "job"}


async def test_pages_and_assets_carry_the_policy(client, token, superuser, headers_for, user):
    created = (await client.post("/api/v1/items", json={"title": "t"}, headers=headers_for(user))).json()
    pages = [
        "/admin/login",
        "/admin/item/list",
        f"/admin/item/details/{created['id']}",
        f"/admin/item/edit/{created['id']}",
        "/admin/item/create",
        f"/admin/user/details/{superuser.id}",
        "/admin/job/list",
        "/admin/auth-session/list",
    ]
    for path in [*pages, *ASSETS]:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-security-policy"] == POLICY, path
        assert r.headers["x-content-type-options"] == "nosniff"
    for path in pages:
        r = await client.get(path)
        assert INLINE_SCRIPT.findall(r.text) == [], path
        assert r.headers["cache-control"] == "no-store"


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
