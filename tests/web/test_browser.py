"""The guide's JD order through the pages in headless Debian Chromium, against the real
stack; a screenshot of every step is kept under test-artifacts/browser/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import PHONE, person
from tests.support.http_api import Api
from tests.support.samples import PDF, PROFILE, unique

pytestmark = pytest.mark.e2e


async def test_jd_order_through_the_pages(e2e: Api, browser: Browser, tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{e2e.settings.api_port}"
    buyer = await person(browser, base_url, "leiliang")
    reviewer = await person(browser, base_url, "bmp")
    page = buyer.page
    # The browser is a Chinese buyer's: zh-CN, in Shanghai's time.
    assert await page.evaluate("navigator.language") == "zh-CN"
    zone = await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert zone == "Asia/Shanghai"

    # 店铺订购: the E3 catalog with its cards, then the JD product and its modules.
    await page.goto(f"{buyer.base_url}/shop?line=E3")
    await expect(page.get_by_text("E3-京东开放平台对接服务")).to_be_visible()
    await buyer.shot("01-catalog")
    await page.goto(f"{buyer.base_url}/shop/JD0001")
    await expect(page.locator("#running-total")).to_have_text("RMB 2000.00")
    await buyer.shot("02-product")
    await page.click("#next-step")

    # Settlement: add an invoice profile inline, fill 补充信息, accept the agreement.
    # 补充信息 typed first: saving the new profile keeps it.
    shop = unique("浏览器店")
    smo = unique("SM")
    fields = {"service_market_order_no": smo, "shop_name": shop, "seller_nick": "5432", "baison_staff": "001",
              "reminder_name": "李雷", "reminder_mobile": "13800138000", "reminder_email": "l123@example.com"}  # fmt: skip
    for name, value in fields.items():
        await page.fill(f"#{name}", value)
    adding = page.locator("details", has=page.locator("#new-profile-title"))
    await adding.evaluate("details => { details.open = true; }")  # open already when none saved
    for field in (
        "title",
        "taxpayer_id",
        "recipient_name",
        "recipient_mobile",
        "recipient_address",
    ):
        await page.fill(f"#new-profile-{field}", PROFILE[field])
    await page.get_by_role("button", name="保存发票信息").click()
    await expect(page.get_by_text("发票信息已保存")).to_be_visible()
    for name, value in fields.items():
        await expect(page.locator(f"#{name}")).to_have_value(value)
    await page.check("input[name=agreement_accepted]")
    await buyer.shot("03-checkout")
    await page.click("button.big:has-text('店铺订购结算')")
    await expect(page.get_by_text("订购成功")).to_be_visible()
    order_no = re.search(r"BS-ZX\d{18}", await page.locator(".flash.ok").inner_text()).group(0)  # type: ignore[union-attr]
    await expect(page.locator(f"#row-{order_no}")).to_contain_text("付款成功")
    await buyer.shot("04-placed")

    # The reviewer returns it with a reason.
    await reviewer.page.goto(f"{reviewer.base_url}/admin/orders/{order_no}")
    await reviewer.page.fill("input[name=reason]", "店铺名称与平台不一致")
    await reviewer.page.click("form[action$='/return'] button")
    await expect(reviewer.page.get_by_text("已打回")).to_be_visible()
    await reviewer.shot("05-returned-by-reviewer")

    # The buyer sees 打回 with the reason, fixes the shop name and resubmits.
    await page.goto(f"{buyer.base_url}/my/orders?expand={order_no}")
    await expect(page.get_by_text("打回原因：店铺名称与平台不一致")).to_be_visible()
    await buyer.shot("06-buyer-sees-returned")
    await page.click("text=修改信息")
    await page.fill("#shop_name", shop + "旗舰店")
    await page.click("text=重新提交审核")
    await expect(page.get_by_text("已修改信息并重新提交审核")).to_be_visible()
    await buyer.shot("07-resubmitted")

    # The reviewer approves.
    await reviewer.page.goto(f"{reviewer.base_url}/admin/orders/{order_no}")
    await reviewer.page.click("text=审核通过")
    await expect(reviewer.page.locator("h1 .status")).to_have_text("已审核")
    await reviewer.shot("08-approved")

    # The buyer confirms receipt: 1000 applied + 1000 未申请, then chooses 退款 (confirmed).
    await page.goto(f"{buyer.base_url}/my/orders?expand={order_no}")
    await page.click("text=确认收货")
    await expect(page.get_by_text("已确认收货")).to_be_visible()
    await expect(page.locator("span.status.pending")).to_have_text("未申请")
    await buyer.shot("09-receipt-confirmed")
    await page.click("button:has-text('退款') >> nth=-1")
    await expect(page.get_by_role("heading", name="退款申请")).to_be_visible()
    await buyer.shot("10-refund-form")

    # The refund form: 个人 needs a proof file.
    proof = tmp_path / "退款证明.pdf"
    proof.write_bytes(PDF)
    refund = {"account_name": "快乐贸易有限公司", "bank": "中国工商银行", "branch": "上海陆家嘴支行",
              "card_no": "6222021234567891234", "region": "上海市"}  # fmt: skip
    for name, value in refund.items():
        await page.fill(f"#{name}", value)
    await page.set_input_files("#proof", str(proof))
    await page.click("button[type=submit].big")
    await expect(page.get_by_text("退款申请已提交")).to_be_visible()
    await expect(page.locator("table")).to_contain_text("退款申请")
    await expect(page.locator("table")).to_contain_text("RMB 1000.00")
    await buyer.shot("11-refund-applied")
    assert "6222021234567891234" not in await page.content()


async def test_pages_fit_a_phone_375px_wide(e2e: Api, browser: Browser) -> None:
    """A phone draws the pages at its own width (viewport meta) and nothing but a wide
    table's own scroller is wider than the screen."""
    await e2e.place(await e2e.login("leiliang"), shop_name=unique("手机店"))
    for name, paths in (
        ("leiliang", ["/shop?line=E3", "/shop/JD0001", "/my/orders", "/my/refunds", "/my/invoices", "/my/profiles"]),
        ("bmp", ["/admin/orders", "/admin/refunds", "/admin/invoices"]),
    ):  # fmt: skip
        base_url = f"http://127.0.0.1:{e2e.settings.api_port}"
        someone = await person(browser, base_url, name, viewport=PHONE)
        for path in paths:
            await someone.page.goto(f"{someone.base_url}{path}")
            width = await someone.page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width}px wide on a 375px phone"
        await someone.shot(f"phone-{name}")
        await someone.page.context.close()
