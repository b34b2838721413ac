"""/docs (Swagger UI) served from the project, never from a CDN: its script and styles are
the copies the fastapi-offline package ships, so the page works on a closed network.
Development only (api/app.py): production keeps the contract off the internet. No ReDoc:
its bundle fetches its own logo from a CDN, which the page's policy (rightly) refuses."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
ASSETS = "/docs/assets"
PAGES = (SWAGGER_UI, OAUTH2_REDIRECT)
ASSET_DIRECTORY = files("fastapi_offline") / "static"


def install(app: FastAPI, *, openapi_url: str) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(ASSET_DIRECTORY)), name="docs-assets")
    title = f"{app.title} · API"

    @app.get(SWAGGER_UI, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # No badge fetched from the public validator service.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
