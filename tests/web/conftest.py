"""The browser of the browser tests (tests/support/browser.py has the people)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, chromium_environment, chromium_missing


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if chromium_missing():  # `make test` installs it; a bare pytest may not have it
        pytest.skip("Debian chromium is not installed (make browser)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=chromium_environment()
        )
        yield chromium
        await chromium.close()
