"""Cross-site request forgery.

Threat: another site (or another port or subdomain of this one) makes a signed-in browser
change something: SameSite=Lax alone let a cross-origin POST through.

Control: cookie-authenticated unsafe requests must come from the site's own origin (Origin,
else Sec-Fetch-Site: same-origin), else 403 `cross_site`; every page form, the login form
included, carries a token bound to the session; bearer calls are unaffected.

Cross-site request forgery: cookie-authenticated changes only from the site's own pages
(Origin / Sec-Fetch-Site), a form token on every page form and on the login form; bearer
calls untouched. Over HTTP, and in Debian Chromium against a page on another origin.
"""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.auth import TOKEN_COOKIE
from api.web.plumbing import POST_FORM_TAG, TEMPLATES
from domain.statuses import Role
from tests.security.app_under_test import (
    BASE_URL,
    PASSWORD,
    bearer,
    client,
    new_account,
    running_app,
    serving,
    settings_for,
    web_sign_in,
)
from tests.support.browser import CHROMIUM, CONTEXT_OPTIONS, chromium_environment, require_chromium
from tests.support.http_api import form_token
from tests.support.samples import PDF, PROFILE, REFUND_FORM

TEMPLATE_DIR = Path(TEMPLATES.env.loader.searchpath[0])  # type: ignore[union-attr]


@pytest.fixture
async def app(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[FastAPI]:
    async with running_app(settings_for(tmp_path), dev_server, session_maker) as app:
        yield app


@asynccontextmanager
async def signed_in_buyer(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """A browser-like client signed in through the login form (which leaves it with no
    default Origin), its form token and a bearer token of the same buyer."""
    username = await new_account(sessions)
    async with client(app) as http, client(app) as program:
        token = await web_sign_in(http, username)
        yield http, token, await bearer(program, username)


async def profile_titles(http: httpx.AsyncClient, bearer_token: str) -> list[str]:
    answer = await http.get(
        "/api/invoice-profiles", headers={"Authorization": f"Bearer {bearer_token}"}
    )
    return [p["title"] for p in answer.json()]


async def test_cookie_post_from_another_origin_is_403_cross_site_and_changes_nothing(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with signed_in_buyer(app, session_maker) as (http, _, token):
        answer = await http.post(
            "/api/invoice-profiles", json=PROFILE, headers={"Origin": "http://evil.test"}
        )
        titles = await profile_titles(http, token)
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert (answer.json()["code"], answer.json()["detail"]) == (
        "cross_site",
        "请求不是来自本站页面，已拒绝",
    )
    assert titles == []


async def test_cookie_post_with_neither_origin_nor_fetch_metadata_is_403(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with signed_in_buyer(app, session_maker) as (http, _, token):
        answer = await http.post("/api/invoice-profiles", json=PROFILE)
        titles = await profile_titles(http, token)
    assert (answer.status_code, answer.json()["code"], titles) == (403, "cross_site", [])


async def test_cookie_post_by_fetch_metadata_alone_needs_same_origin(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with signed_in_buyer(app, session_maker) as (http, _, token):
        same_site = await http.post(
            "/api/invoice-profiles", json=PROFILE, headers={"Sec-Fetch-Site": "same-site"}
        )
        same_origin = await http.post(
            "/api/invoice-profiles", json=PROFILE, headers={"Sec-Fetch-Site": "same-origin"}
        )
        titles = await profile_titles(http, token)
    assert (same_site.status_code, same_origin.status_code) == (403, 201)
    assert titles == [PROFILE["title"]]


async def test_cookie_post_from_the_own_origin_works(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with signed_in_buyer(app, session_maker) as (http, _, _):
        answer = await http.post(
            "/api/invoice-profiles", json=PROFILE, headers={"Origin": BASE_URL}
        )
    assert answer.status_code == 201


async def test_bearer_post_without_origin_works(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        token = await bearer(http, username)
        plain = await http.post(
            "/api/invoice-profiles", json=PROFILE, headers={"Authorization": f"Bearer {token}"}
        )
        from_elsewhere = await http.post(
            "/api/invoice-profiles",
            json=PROFILE,
            headers={"Authorization": f"Bearer {token}", "Origin": "http://evil.test"},
        )
    assert (plain.status_code, from_elsewhere.status_code) == (201, 201)


async def test_page_form_without_or_with_a_wrong_token_is_403(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    same_origin = {"Origin": BASE_URL}
    async with signed_in_buyer(app, session_maker) as (http, token, bearer_token):
        without = await http.post("/my/profiles", data=PROFILE, headers=same_origin)
        wrong = await http.post(
            "/my/profiles", data=PROFILE | {"csrf_token": "0" * 64}, headers=same_origin
        )
        nothing_saved = await profile_titles(http, bearer_token)
        right = await http.post(
            "/my/profiles", data=PROFILE | {"csrf_token": token}, headers=same_origin
        )
        saved = await profile_titles(http, bearer_token)
    assert (without.status_code, wrong.status_code) == (403, 403)
    assert without.json()["code"] == "cross_site"
    assert without.json()["detail"] == "页面已过期或不是来自本站，请刷新页面后重试"
    assert nothing_saved == []
    assert right.status_code == 303
    assert saved == [PROFILE["title"]]


async def test_token_of_another_session_is_403(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with (
        signed_in_buyer(app, session_maker) as (mine, _, _),
        signed_in_buyer(app, session_maker) as (_, their_token, _),
    ):
        answer = await mine.post(
            "/my/profiles", data=PROFILE | {"csrf_token": their_token}, headers={"Origin": BASE_URL}
        )
    assert answer.status_code == 403


async def test_multipart_refund_form_without_token_is_403(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    proof = {"proof": ("证明.pdf", PDF, "application/pdf")}
    path = "/my/orders/BS-ZX202001010000000000/refund"
    async with signed_in_buyer(app, session_maker) as (http, token, _):
        without = await http.post(path, data=REFUND_FORM, files=proof, headers={"Origin": BASE_URL})
        with_token = await http.post(
            path,
            data=REFUND_FORM | {"csrf_token": token},
            files=proof,
            headers={"Origin": BASE_URL},
        )
    assert (without.status_code, without.json()["code"]) == (403, "cross_site")
    assert with_token.status_code != 403  # past the token: the order is simply not there


async def test_login_form_without_its_token_signs_nobody_in(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        await http.get("/login")  # the pre-sign-in cookie alone is not enough
        page = await http.post("/login", data={"username": username, "password": "x" * 8})
    assert page.status_code == 403
    assert "登录页面已过期，请重新登录" in page.text
    assert TOKEN_COOKIE not in page.cookies


async def test_login_form_token_of_another_browser_is_refused(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as attacker, client(app) as victim:
        attackers_token = form_token((await attacker.get("/login")).text)
        await victim.get("/login")
        page = await victim.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": attackers_token},
        )
    assert page.status_code == 403
    assert TOKEN_COOKIE not in page.cookies


def test_every_post_form_of_every_template_carries_the_token() -> None:
    forms = 0
    for template in sorted(TEMPLATE_DIR.glob("*.html")):
        source = template.read_text(encoding="utf-8")
        loaded = TEMPLATES.env.preprocess(source, template.name)
        for tag in POST_FORM_TAG.finditer(loaded):
            forms += 1
            after = loaded[tag.end() :]
            assert after.startswith("{{ csrf_field() }}"), f"{template.name}: {tag.group(0)}"
    assert forms >= 20  # login, logout, every action and the multipart uploads


async def test_codec_from_the_temporal_ui_origin_is_allowed(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker, Role.REVIEWER)
    ui_origin = app.state.shop_orders.settings.temporal_ui_origins[0]
    async with client(app) as http:
        await web_sign_in(http, username)
        decoded = await http.post(
            "/codec/decode", json={"payloads": []}, headers={"Origin": ui_origin}
        )
        elsewhere = await http.post(
            "/codec/decode", json={"payloads": []}, headers={"Origin": "http://evil.test"}
        )
    assert (decoded.status_code, elsewhere.status_code) == (200, 403)


# --- in the browser ---------------------------------------------------------------------


ATTACK_PAGE = """<!doctype html><html><body>
<form id="attack" method="post" action="{action}">{fields}</form>
<script>document.getElementById("attack").submit();</script>
</body></html>"""


@pytest.fixture
def attacker_site() -> Iterator[dict[str, str]]:
    """A site on another origin (another port of 127.0.0.1) serving auto-submitting forms:
    set ``pages[path] = html`` and open http://127.0.0.1:port/path."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            """Quiet: the requests that matter are the browser's, checked by the test."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield pages
    finally:
        server.shutdown()


def attack_page(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return ATTACK_PAGE.format(action=action, fields=inputs)


async def test_browser_cross_site_form_is_403_and_own_forms_work(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    attacker_site: dict[str, str],
) -> None:
    from playwright.async_api import async_playwright, expect

    require_chromium()

    username = await new_account(session_maker)
    settings = settings_for(tmp_path)
    async with (
        running_app(settings, dev_server, session_maker) as app,
        serving(app) as base_url,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
            env=chromium_environment(),
        )  # fmt: skip
        try:
            page = await (await browser.new_context(**CONTEXT_OPTIONS)).new_page()
            # The app's own login form (its token bound to the pre-sign-in cookie) works.
            await page.goto(f"{base_url}/login")
            await page.fill("#username", username)
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await expect(page.locator("span.who")).to_contain_text(username)

            # Another site's auto-submitting form, sent with the sign-in cookie: refused.
            attacker_site["/profile"] = attack_page(f"{base_url}/my/profiles", PROFILE)
            async with page.expect_response(f"{base_url}/my/profiles") as answer:
                await page.goto(f"{attacker_site['origin']}/profile")
            refused = await answer.value
            assert refused.status == 403
            assert (await refused.json())["code"] == "cross_site"

            # The app's own profile form, on the checkout page: saved.
            await page.goto(f"{base_url}/shop/JD0001/checkout?module=ERP")
            adding = page.locator("details", has=page.locator("#new-profile-title"))
            await adding.evaluate("d => { d.open = true; }")
            for field in ("title", "taxpayer_id", "recipient_name", "recipient_mobile",
                          "recipient_address"):  # fmt: skip
                await page.fill(f"#new-profile-{field}", PROFILE[field])
            await page.get_by_role("button", name="保存发票信息").click()
            await expect(page.get_by_text("发票信息已保存")).to_be_visible()
            async with httpx.AsyncClient(base_url=base_url) as http:
                token = await bearer(http, username)
                titles = await profile_titles(http, token)
            assert titles == [PROFILE["title"]]  # one: the cross-site post saved nothing
        finally:
            await browser.close()


async def test_browser_cross_site_login_form_signs_nobody_in(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    attacker_site: dict[str, str],
) -> None:
    from playwright.async_api import async_playwright

    require_chromium()

    attackers_account = await new_account(session_maker)
    async with (
        running_app(settings_for(tmp_path), dev_server, session_maker) as app,
        serving(app) as base_url,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
            env=chromium_environment(),
        )
        try:
            context = await browser.new_context(**CONTEXT_OPTIONS)
            page = await context.new_page()
            await page.goto(f"{base_url}/login")  # the victim has the pre-sign-in cookie
            fields = {"username": attackers_account, "password": PASSWORD}
            attacker_site["/login"] = attack_page(f"{base_url}/login", fields)
            async with page.expect_response(f"{base_url}/login") as answer:
                await page.goto(f"{attacker_site['origin']}/login")
            refused = await answer.value
            cookies = {c["name"] for c in await context.cookies(base_url)}
            assert refused.status == 403
            assert re.search("登录页面已过期", await refused.text())
            assert TOKEN_COOKIE not in cookies
        finally:
            await browser.close()
