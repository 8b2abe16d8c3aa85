"""/docs and /redoc are served from the service's own assets: nothing on them points elsewhere.
(tests/deploy/test_docs_offline.py opens them in a browser with no way out.)"""

import re

import httpx
import pytest
from fastapi import FastAPI

from core.docs import ASSETS_URL, POLICY


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_a_docs_page_names_no_other_host_and_forbids_fetching_from_one(
    client: httpx.AsyncClient, page: str
) -> None:
    r = await client.get(page)

    assert r.status_code == 200
    assert r.headers["content-security-policy"] == POLICY
    assert "default-src 'self'" in POLICY
    assert re.findall(r"(?:src|href|url)\s*[=:]\s*[\"']?(?:https?:)?//", r.text) == []


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
