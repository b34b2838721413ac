"""/docs in Chromium with the network closed: everything they need comes from this
site (api/docs.py), nothing from a CDN."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Route, expect

from tests.support.browser import DESKTOP
from tests.support.http_api import Api

pytestmark = pytest.mark.e2e

THIS_SITE = frozenset({"127.0.0.1", "localhost"})


async def closed_network(browser: Browser) -> tuple[BrowserContext, list[str]]:
    """A browser context whose every request off this machine is aborted (and listed)."""
    context = await browser.new_context(viewport=DESKTOP)
    refused: list[str] = []

    async def only_this_site(route: Route) -> None:
        if urlsplit(route.request.url).hostname in THIS_SITE:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_this_site)
    return context, refused


async def test_docs_render_every_operation_with_the_network_closed(
    e2e: Api, browser: Browser
) -> None:
    document = (await e2e.http.get("/openapi.json")).json()
    operations = sum(len(item) for item in document["paths"].values())
    base_url = f"http://127.0.0.1:{e2e.settings.api_port}"
    context, refused = await closed_network(browser)
    page = await context.new_page()
    blocked_by_policy: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked_by_policy.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    await page.goto(f"{base_url}/docs")
    await expect(page.locator(".opblock")).to_have_count(operations)
    await expect(page.locator(".opblock-summary-description").first).not_to_be_empty()
    place = page.locator(".opblock-post", has_text="Place an order · 下单")
    await expect(place).to_be_visible()
    # The operation opens with its error answers, documented as problem+json.
    await place.locator(".opblock-summary").click()
    await expect(place.locator(".response-col_status", has_text="409")).to_be_visible()
    await expect(place.get_by_text("application/problem+json").first).to_be_attached()

    await context.close()

    assert refused == []
    assert blocked_by_policy == []
