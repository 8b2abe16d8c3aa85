"""/docs and /redoc are served from the service's own assets: nothing on them points elsewhere.
(tests/deploy/test_docs_offline.py opens them in a browser with no way out.)"""

import base64
import hashlib
import re

import httpx
import pytest
from fastapi import FastAPI

from core.app import create_app
from core.docs import ASSETS_URL
from tests.helpers import app_client, make_settings

PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]


@pytest.mark.parametrize("page", PAGES)
async def test_a_docs_page_names_no_other_host_and_forbids_fetching_from_one(
    client: httpx.AsyncClient, page: str
) -> None:
    r = await client.get(page)

    assert r.status_code == 200
    assert "default-src 'self';" in r.headers["content-security-policy"]
    assert re.findall(r"(?:src|href|url)\s*[=:]\s*[\"']?(?:https?:)?//", r.text) == []


@pytest.mark.parametrize("page", PAGES)
async def test_a_docs_page_runs_no_inline_script_but_its_own(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)

    (script_src,) = re.findall(r"script-src ([^;]*)", r.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", r.text, flags=re.DOTALL)
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline]
    assert script_src.split() == ["'self'", *hashes]


@pytest.mark.parametrize("path", [*PAGES, "/openapi.json", f"{ASSETS_URL}/swagger-ui-bundle.js"])
async def test_docs_enabled_false_closes_the_docs_and_the_schema(tmp_path, path: str) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'app.db'}", DOCS_ENABLED=False))
    async with app_client(app) as client:
        r = await client.get(path)

    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"]),
        ("/redoc", ["redoc.standalone.js", "favicon.png"]),
    ],
)
async def test_a_docs_page_loads_the_assets_the_service_serves(
    client: httpx.AsyncClient, page: str, assets: list[str]
) -> None:
    html = (await client.get(page)).text

    for asset in assets:
        assert f'"{ASSETS_URL}/{asset}"' in html
        r = await client.get(f"{ASSETS_URL}/{asset}")
        assert r.status_code == 200, asset
        assert len(r.content) > 1000


async def test_swagger_ui_signs_in_at_the_login_route(client: httpx.AsyncClient) -> None:
    schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]

    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"


def test_the_docs_routes_are_not_part_of_the_api(app: FastAPI) -> None:
    paths = app.openapi()["paths"]

    assert not [path for path in paths if path.startswith(("/docs", "/redoc", ASSETS_URL))]
