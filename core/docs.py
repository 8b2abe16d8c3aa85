"""/docs (Swagger UI) and /redoc from the assets the fastapi-offline package ships.

FastAPI's own pages load their scripts from a CDN (and a favicon from elsewhere): without
internet they are blank. These are the same pages (FastAPI's HTML helpers), pointed at files the
service serves itself. A content security policy keeps them from fetching anything else (ReDoc
would otherwise ask its CDN for its attribution logo) and from running any script but the
service's own files and the one inline script each page was served with, named by its hash: an
injected script, inline or from anywhere, does not run.
"""

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
# Both UIs style inline; ReDoc's search runs in a worker made from a blob. `{scripts}`: the hashes
# of the page's own inline scripts (FastAPI's pages start Swagger UI inline).
POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@lru_cache(maxsize=64)
def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _page(html: HTMLResponse) -> HTMLResponse:
    scripts = "".join(f" {_hash(script)}" for script in _INLINE_SCRIPT.findall(bytes(html.body).decode()))
    html.headers["Content-Security-Policy"] = POLICY.format(scripts=scripts)
    return html


def add_docs(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect and /redoc. The app is made with `docs_url=None` and
    `redoc_url=None`, so FastAPI's CDN pages are not there; with DOCS_ENABLED=false it is also
    made without `/openapi.json`, and this is not called."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(
            get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=f"{root}{redirect_url}",
                swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            )
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _page(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(
            get_redoc_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )
