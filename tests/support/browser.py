"""The browser tests' people: Debian's Chromium driven by Playwright (never a downloaded
browser), each person signed in through the sign-in page in a browser context of their own
(Chinese locale, Shanghai time), screenshotting into test-artifacts/browser/ and checking
every page they look at with axe-core (node_modules, from package-lock.json)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
# What a buyer of the guide's has: a Chinese browser in China's time zone.
CONTEXT_OPTIONS: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
# The impacts that fail a page; "minor" and "moderate" findings are left to judgement.
BLOCKING_IMPACTS = ("serious", "critical")


def chromium_environment() -> dict[str, str | float | bool]:
    """Chromium's own words (the file input's 选择文件, the date input's 年/月/日) in Chinese:
    headless Chromium takes its language from LANGUAGE (the chromium-l10n package has it)."""
    return {**os.environ, "LANGUAGE": "zh_CN:zh"}


def require_chromium() -> None:
    """Fails (never skips) without Debian's Chromium: a browser test that is silently skipped
    cannot fail. `make test` installs it (`make browser`)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian chromium is not installed: run `make browser` (or `make test`)")


async def new_context(
    browser: Browser, viewport: ViewportSize = DESKTOP, **options: Any
) -> BrowserContext:
    """A browser context as the tests' people have one, axe-core loaded into every page.

    axe arrives as an init script: the pages' Content-Security-Policy (script-src 'self')
    refuses an injected <script> tag, and the tests must not switch the policy off."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: `make browser` runs npm ci")
    context = await browser.new_context(viewport=viewport, **(CONTEXT_OPTIONS | options))
    await context.add_init_script(path=str(AXE))
    return context


async def assert_accessible(page: Page) -> None:
    """axe-core over the page as it is now; fails on any serious or critical violation,
    each listed with the elements it concerns."""
    await page.wait_for_load_state()
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " — " + (n.failureSummary || "")
                    .replace(/\\s+/g, " ").slice(0, 240)),
            }));
        }"""
    )
    blocking = [v for v in found if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe-core on {page.url}:"]
        for violation in blocking:
            lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
            lines.extend(f"      {node}" for node in violation["nodes"][:8])
        raise AssertionError("\n".join(lines))


async def assert_focus_visible(page: Page) -> None:
    """The element that has the keyboard's focus is drawn with a visible outline."""
    shown = await page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
        }"""
    )
    focused = await page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    assert shown, f"no visible focus outline on {focused}"


async def tab_to(page: Page, selector: str, *, backwards: bool = False, limit: int = 150) -> None:
    """Presses Tab (Shift+Tab ``backwards``) until the element matching ``selector`` has the
    focus, as someone without a mouse moves through a page; its focus must be visible."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        await page.keyboard.press(key)
        if await page.evaluate("s => document.activeElement.matches(s)", selector):
            await assert_focus_visible(page)
            return
    raise AssertionError(f"{key} never reaches {selector} on {page.url}")


class Person:
    """One signed-in person in their own browser context, screenshotting each step; each
    page opened or screenshotted is checked with axe-core."""

    def __init__(self, page: Page, base_url: str, name: str, password: str = "demo") -> None:
        self.page, self.base_url, self.name, self.password = page, base_url, name, password

    async def sign_in(self) -> None:
        await self.page.goto(f"{self.base_url}/login")
        await assert_accessible(self.page)
        await self.page.fill("#username", self.name)
        await self.page.fill("#password", self.password)
        await self.page.click("button[type=submit]")
        # Signed in (the header's 退出) or refused (the sign-in page's error), not half-way.
        answer = self.page.locator("form[action='/logout'], .flash.error").first
        await expect(answer).to_be_visible()

    async def open(self, path: str) -> None:
        await self.page.goto(f"{self.base_url}{path}")
        await assert_accessible(self.page)

    async def shot(self, step: str) -> None:
        await assert_accessible(self.page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{step}.png"), full_page=True)

    async def at_both_widths(self, name: str) -> None:
        """The page as it is, at a phone's 375 px and a laptop's 1366 px: never wider than
        the screen (a wide table scrolls inside its own box), accessible, and kept as
        ``phone-<name>.png`` and ``desktop-<name>.png``."""
        before = self.page.viewport_size
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            await self.page.set_viewport_size(size)
            width = await self.page.evaluate("document.documentElement.scrollWidth")
            inner = await self.page.evaluate("window.innerWidth")
            assert width <= inner, f"{self.page.url} is {width}px wide on a {inner}px {label}"
            await self.shot(f"{label}-{name}")
        if before is not None:
            await self.page.set_viewport_size(before)


async def person(
    browser: Browser,
    base_url: str,
    name: str,
    password: str = "demo",
    *,
    sign_in: bool = True,
    viewport: ViewportSize = DESKTOP,
) -> Person:
    """``name`` signed in through the sign-in page, in a browser context of their own
    (desktop-wide unless told), accepting the confirmations of irreversible choices."""
    context = await new_context(browser, viewport, is_mobile=viewport["width"] < 720)
    someone = Person(await context.new_page(), base_url, name, password)
    someone.page.on("dialog", lambda dialog: dialog.accept())
    if sign_in:
        await someone.sign_in()
    return someone
