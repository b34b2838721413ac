"""The browser tests' people: Debian's Chromium driven by Playwright (never a downloaded
browser), each person signed in through the sign-in page in a browser context of their own,
screenshotting into test-artifacts/browser/."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.async_api import Browser, Page, ViewportSize, expect

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def chromium_missing() -> bool:
    return shutil.which(CHROMIUM) is None


class Person:
    """One signed-in person in their own browser context, screenshotting each step."""

    def __init__(self, page: Page, base_url: str, name: str, password: str = "demo") -> None:
        self.page, self.base_url, self.name, self.password = page, base_url, name, password

    async def sign_in(self) -> None:
        await self.page.goto(f"{self.base_url}/login")
        await self.page.fill("#username", self.name)
        await self.page.fill("#password", self.password)
        await self.page.click("button[type=submit]")
        # Signed in (the header's 退出) or refused (the sign-in page's error), not half-way.
        answer = self.page.locator("form[action='/logout'], .flash.error").first
        await expect(answer).to_be_visible()

    async def open(self, path: str) -> None:
        await self.page.goto(f"{self.base_url}{path}")

    async def shot(self, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{step}.png"), full_page=True)


async def person(
    browser: Browser, base_url: str, name: str, password: str = "demo", *, sign_in: bool = True
) -> Person:
    """``name`` signed in through the sign-in page, in a desktop-wide browser context of
    their own, accepting the confirmations of irreversible choices."""
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    someone = Person(await context.new_page(), base_url, name, password)
    someone.page.on("dialog", lambda dialog: dialog.accept())
    if sign_in:
        await someone.sign_in()
    return someone
