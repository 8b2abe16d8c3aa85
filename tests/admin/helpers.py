"""Signing in to /admin as a browser does, for the admin's tests and every entity's."""

import re

import httpx

from modules.admin.security import POLICY
from modules.users.models import User
from tests.helpers import PASSWORD

# What a browser sends with a form of the admin's own pages (the check: modules/admin/security.py).
SAME_ORIGIN = {"Origin": "http://testserver"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|name="csrf-token" content="([^"]+)"')
# A script without `src`, or an event handler attribute: what the policy would refuse to run.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


def form_token(page: str) -> str:
    """The form token a page of the admin carries."""
    found = _TOKEN.search(page)
    assert found, page[:2000]
    return found[1] or found[2]


async def sign_in_to_admin(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> str:
    """Sign in through the login form; return the form token the signed-in pages carry."""
    login = await client.get("/admin/login")
    form = {"username": user.email, "password": password, "csrf_token": form_token(login.text)}
    r = await client.post("/admin/login", data=form, headers=SAME_ORIGIN)
    assert r.status_code == 302, r.text
    return form_token((await client.get("/admin/")).text)


def assert_strict_page(page: httpx.Response) -> None:
    """A page of the admin's: served under the strict policy, with nothing inline it would stop."""
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"] == POLICY
    assert INLINE_SCRIPT.findall(page.text) == []
