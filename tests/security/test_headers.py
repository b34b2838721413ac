"""Security headers.

Threat: clickjacking, MIME sniffing, inline script injection, referrer leaks, pages with
personal data kept in shared caches, plain HTTP in production.

Control: every answer carries a CSP without inline script and `frame-ancestors 'none'`,
`X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy`, `Cache-Control: no-store` outside
/static, and HSTS in production.

Security headers on every answer of the API and the web pages, driven through the app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import _IncludedRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import Settings
from tests.security.apps import BUYER, REVIEWER, app_settings, serving, signed_in

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"


def every_get_path(settings: Settings) -> list[str]:
    """Each GET route of the app, path parameters filled with a value that names nothing."""

    def walk(routes: Iterable[Any]) -> Iterator[str]:
        for route in routes:
            if isinstance(route, _IncludedRouter):
                yield from walk(route.effective_route_contexts())
            elif "GET" in (getattr(route, "methods", None) or ()):
                yield re.sub(r"\{[^}]+\}", "1", route.path)

    return sorted(walk(create_app(settings).routes))


def assert_common_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ") if d}
    assert directives.get("script-src") == ["'self'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_security_headers_on_every_page(
    environment: str, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = app_settings(environment, tmp_path)
    paths = every_get_path(settings)
    assert "/my/orders" in paths and "/api/orders/1" in paths and "/login" in paths
    async with serving(settings, session_maker) as http:
        for caller in (
            {},
            await signed_in(settings, session_maker, BUYER),
            await signed_in(settings, session_maker, REVIEWER),
        ):
            for path in paths:
                if path in ("/docs", "/docs/oauth2-redirect"):
                    continue  # their own policy, below
                response = await http.get(path, headers=caller)
                assert_common_headers(response)
                assert response.headers["Cache-Control"] == "no-store", path


async def test_security_headers_on_refusals_and_unknown_paths(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = app_settings("production", tmp_path)
    async with serving(settings, session_maker) as http:
        answers = [
            await http.get("/no/such/page"),
            await http.get("/api/me"),  # 401
            await http.post("/api/auth/token", data={"username": "x", "password": "y"}),
            await http.post("/login", content=b"\x00", headers={"Content-Type": "text/plain"}),
        ]
    for response in answers:
        assert response.status_code >= 400
        assert_common_headers(response)


async def test_hsts_only_in_production(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with serving(app_settings("production", tmp_path), session_maker) as http:
        production = await http.get("/login")
    async with serving(app_settings("development", tmp_path), session_maker) as http:
        development = await http.get("/login")
    assert production.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert "Strict-Transport-Security" not in development.headers


async def test_static_assets_may_be_cached_but_keep_the_other_headers(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with serving(app_settings("production", tmp_path), session_maker) as http:
        script = await http.get("/static/app.js")
    assert script.status_code == 200
    assert "no-store" not in script.headers.get("Cache-Control", "")
    assert_common_headers(script)


async def test_development_docs_get_their_own_policy_and_nothing_else_does(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with serving(app_settings("development", tmp_path), session_maker) as http:
        docs = await http.get("/docs")
        page = await http.get("/login")
    assert docs.status_code == 200
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert (docs.headers["X-Frame-Options"], docs.headers["Cache-Control"]) == ("DENY", "no-store")
    assert_common_headers(page)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_inline_script(template: Path) -> None:
    # The policy forbids inline script; a template that had some would break in the browser.
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_HANDLER.search(text)
    assert not SCRIPT_URL.search(text)
