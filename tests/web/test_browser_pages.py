"""Every page the people of the browser tests visit, at a phone's 375 px and a laptop's
1366 px: no horizontal scroll of the page (wide tables scroll inside their own box or
stack their rows), axe-core finds nothing serious or critical, and each page is kept as
``phone-<page>.png`` and ``desktop-<page>.png`` in test-artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.support import jd_walk
from tests.support.browser import DESKTOP, PHONE, Person, person
from tests.support.http_api import Api, ok, placed_jd_order, refund_applied, refund_chosen
from tests.support.samples import OTHER_BUYER, REVIEWER, order_body, unique

pytestmark = pytest.mark.e2e


async def orders_in_every_state(e2e: Api) -> dict[str, Any]:
    """An order for each kind of page: returned (修改信息), refund chosen (退款申请 form),
    refund applied (its refund and invoice), refund agreed (finance's list), an invoice
    returned (发票修改)."""
    reviewer = await e2e.login(REVIEWER.username)
    returned = await placed_jd_order(e2e, shop_name=unique("打回店"))
    reason = {"reason": "店铺名称有误"}
    path = f"/api/admin/orders/{returned}/return"
    await ok(e2e.http.post(path, json=reason, headers=reviewer))
    choosing = await refund_chosen(e2e, shop_name=unique("退款店"))
    applied = await refund_applied(e2e, shop_name=unique("申请店"))
    [invoice] = [i["invoice_app_no"] for i in applied["invoices"] if i["status"] == "applied"]
    agreed = await jd_walk.refund_agreed(e2e.send, await placed_jd_order(e2e))
    corrected = await refund_chosen(e2e, shop_name=unique("发票店"))
    order = await ok(e2e.http.get(f"/api/orders/{corrected}", headers=await e2e.login("leiliang")))
    [returned_invoice] = [i["invoice_app_no"] for i in order["invoices"] if i["status"] == "applied"]  # fmt: skip
    path = f"/api/admin/invoices/{returned_invoice}/return"
    await ok(e2e.http.post(path, json={"reason": "抬头有误"}, headers=reviewer))
    return {"returned": returned, "choosing": choosing, "applied": applied["order_no"],
            "refund": applied["refund"]["refund_id"], "invoice": invoice,
            "agreed": agreed["order_no"], "returned_invoice": returned_invoice}  # fmt: skip


async def headers_on_one_line(someone: Person) -> None:
    """No table header wraps (签约名/称, 操/作): each is one line high at desktop width."""
    wrapped = await someone.page.evaluate(
        """() => [...document.querySelectorAll("th")].filter(th => {
            const size = parseFloat(getComputedStyle(th).fontSize);
            const range = document.createRange();
            range.selectNodeContents(th);
            return th.offsetParent !== null && range.getClientRects().length > 1
                && range.getBoundingClientRect().height > size * 2;
        }).map(th => th.textContent.trim())"""
    )
    assert not wrapped, f"{someone.page.url}: headers wrap: {wrapped}"


async def test_every_page_fits_a_phone_and_a_laptop(e2e: Api, browser: Browser) -> None:
    made = await orders_in_every_state(e2e)
    base_url = f"http://127.0.0.1:{e2e.settings.api_port}"
    pages = {
        "leiliang": {
            "catalog": "/shop?line=E3",
            "product": "/shop/JD0001",
            "checkout": "/shop/JD0001/checkout?module=ERP",
            "agreement": "/shop/JD0001/agreement",
            "my-orders": f"/my/orders?expand={made['applied']}",
            "my-order": f"/my/orders/{made['applied']}",
            "order-edit": f"/my/orders/{made['returned']}/edit",
            "my-refunds": "/my/refunds",
            "refund-detail": f"/my/refunds/{made['refund']}",
            "refund-form": f"/my/orders/{made['choosing']}/refund",
            "my-invoices": "/my/invoices",
            "invoice-detail": f"/my/invoices/{made['invoice']}",
            "invoice-edit": f"/my/invoices/{made['returned_invoice']}/edit",
            "my-profiles": "/my/profiles",
            "my-addresses": "/my/addresses",
            "my-account": "/my/account",
            "my-messages": "/my/messages",
            "error-page": "/no/such/page",
        },
        "bmp": {
            "admin-orders": "/admin/orders",
            "admin-order": f"/admin/orders/{made['applied']}",
            "admin-refunds": "/admin/refunds",
            "admin-refund": f"/admin/refunds/{made['refund']}",
            "admin-invoices": "/admin/invoices",
            "admin-invoice": f"/admin/invoices/{made['invoice']}",
        },
        "finance": {"finance": "/finance", "ledger": "/finance/ledger"},
    }
    for name, visits in pages.items():
        someone = await person(browser, base_url, name)
        for page_name, path in visits.items():
            await someone.open(path)
            await headers_on_one_line(someone)
            await someone.at_both_widths(page_name)
        await someone.page.context.close()
    signed_out = await person(browser, base_url, "nobody", sign_in=False)
    await signed_out.open("/login")
    await signed_out.at_both_widths("login")
    await signed_out.page.context.close()


async def test_catalog_descriptions_end_on_whole_lines(e2e: Api, browser: Browser) -> None:
    """A card's 说明 shows whole lines (three at most, an ellipsis after), never half a
    line cut by the card's height."""
    buyer = await person(browser, f"http://127.0.0.1:{e2e.settings.api_port}", "leiliang")
    await buyer.open("/shop?line=E3")
    heights = await buyer.page.evaluate(
        """() => [...document.querySelectorAll(".product .notice")].map(n =>
            [n.clientHeight, parseFloat(getComputedStyle(n).lineHeight)])"""
    )
    assert heights
    for height, line in heights:
        assert height % line == 0 and height <= 3 * line, (height, line)
    await buyer.page.context.close()


async def test_back_office_refunds_say_refund_management_as_the_guide(
    e2e: Api, browser: Browser
) -> None:
    """The guide's 退款管理: the back office's menu and the refund pages' breadcrumb agree."""
    applied = await refund_applied(e2e, shop_name=unique("面包屑店"))
    reviewer = await person(browser, f"http://127.0.0.1:{e2e.settings.api_port}", "bmp")
    page = reviewer.page
    await reviewer.open(f"/admin/refunds/{applied['refund']['refund_id']}")
    await expect(page.locator("header nav a.on")).to_have_text("退款管理")
    await expect(page.locator(".crumbs")).to_have_text("bmp后台 > 退款管理 > 退款详情")
    await page.locator(".crumbs a", has_text="退款管理").click()
    await expect(page.locator(".crumbs")).to_have_text("bmp后台 > 退款管理")
    await page.context.close()


async def test_order_date_range_stays_on_one_line(e2e: Api, browser: Browser) -> None:
    """下单时间 [from] 至 [to] of the order filter bar: on one line at 1366 px (never 至 wrapped
    onto a row of its own) and at 375 px, where it takes a row of its own."""
    for name, path in (("bmp", "/admin/orders"), ("leiliang", "/my/orders")):
        someone = await person(browser, f"http://127.0.0.1:{e2e.settings.api_port}", name)
        await someone.open(path)
        for size in (PHONE, DESKTOP):
            await someone.page.set_viewport_size(size)
            boxes = [
                await someone.page.locator(selector).bounding_box()
                for selector in ("#f-placed_from", "label[for=f-placed_to]", "#f-placed_to")
            ]
            assert all(boxes), f"{path}: the date range is not shown"
            tops = {round(box["y"] + box["height"] / 2) for box in boxes if box}
            assert max(tops) - min(tops) <= 2, f"{path} at {size['width']} px: {boxes}"
            lefts = [box["x"] for box in boxes if box]
            assert lefts == sorted(lefts), f"{path} at {size['width']} px: out of order"
            right = max(box["x"] + box["width"] for box in boxes if box)
            assert right <= size["width"], f"{path} at {size['width']} px: past the screen"
        await someone.at_both_widths(f"filters-{name}")
        await someone.page.context.close()


async def test_checkout_with_thirty_invoice_profiles_lists_them_in_a_scrolling_box(
    e2e: Api, browser: Browser
) -> None:
    """A buyer with many invoice profiles: the one the last order used is first and chosen,
    both lists scroll inside a box of their own (the page stays short at 375 px), the
    arrow keys move the choice, and a choice far down the list is kept (and scrolled to)
    after a refused order."""
    headers = await e2e.login(OTHER_BUYER.username)
    ids = [await e2e.profile(headers, title=unique(f"多抬头{n:02d}")) for n in range(30)]
    used = ids[3]
    await ok(e2e.http.post("/api/orders", json=order_body(used), headers=headers), 201)
    buyer = await person(
        browser, f"http://127.0.0.1:{e2e.settings.api_port}", OTHER_BUYER.username, viewport=PHONE
    )
    page = buyer.page
    await buyer.open("/shop/JD0001/checkout?module=ERP")
    choices = page.locator("#profile-choices input[name=invoice_profile_id]")
    await expect(choices.first).to_have_value(str(used))
    await expect(choices.first).to_be_checked()
    for box in ("#profile-choices", "#saved-profiles"):
        shown, whole = await page.locator(box).evaluate("b => [b.clientHeight, b.scrollHeight]")
        assert whole > shown and shown <= 0.45 * PHONE["height"], (box, shown, whole)

    await choices.first.focus()
    await page.keyboard.press("ArrowDown")
    await expect(choices.nth(1)).to_be_checked()
    far = choices.nth(24)
    await far.check()
    await page.locator("button.big").click()
    await expect(page.locator("#shop_name + .field-error")).to_be_visible()
    await expect(far).to_be_checked()
    inside_its_box = await far.evaluate(
        """choice => {
            const box = choice.closest(".scroll-box").getBoundingClientRect();
            const row = choice.closest("label").getBoundingClientRect();
            return row.top >= box.top && row.bottom <= box.bottom;
        }"""
    )
    assert inside_its_box, "the chosen profile is scrolled out of sight in its box"
    await buyer.at_both_widths("checkout-many-profiles")
    await page.context.close()


async def test_amounts_use_the_body_font_with_tabular_figures_and_the_chosen_profile_is_not_red(
    e2e: Api, browser: Browser
) -> None:
    """Amounts read as the text around them (the body's font, never a monospace one) with
    figures of equal width; the checkout's chosen invoice profile is marked in the brand's
    blue, not the red that marks an error."""
    await placed_jd_order(e2e, shop_name=unique("字体店"))
    buyer = await person(browser, f"http://127.0.0.1:{e2e.settings.api_port}", "leiliang")
    page = buyer.page
    await buyer.open("/my/orders")
    body_font = await page.evaluate("getComputedStyle(document.body).fontFamily")
    amount = page.locator("td.money").first
    assert await amount.evaluate("a => getComputedStyle(a).fontFamily") == body_font
    assert "tabular-nums" in await amount.evaluate("a => getComputedStyle(a).fontVariantNumeric")
    await buyer.open("/shop/JD0001/checkout?module=ERP")
    chosen = page.locator(".profile.chosen")
    await expect(chosen).to_have_count(1)
    error_red = await page.evaluate(
        """() => { const e = document.createElement("span"); e.className = "field-error";
            document.body.append(e); const c = getComputedStyle(e).color; e.remove(); return c; }"""
    )
    assert await chosen.evaluate("p => getComputedStyle(p).borderTopColor") != error_red
    await page.context.close()
