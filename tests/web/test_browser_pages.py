"""Every page the people of the browser tests visit, at a phone's 375 px and a laptop's
1366 px: no horizontal scroll of the page (wide tables scroll inside their own box or
stack their rows), axe-core finds nothing serious or critical, and each page is kept as
``phone-<page>.png`` and ``desktop-<page>.png`` in test-artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.support import jd_walk
from tests.support.browser import person
from tests.support.http_api import Api, ok, placed_jd_order, refund_applied, refund_chosen
from tests.support.samples import REVIEWER, unique

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
            await someone.at_both_widths(page_name)
        await someone.page.context.close()
    signed_out = await person(browser, base_url, "nobody", sign_in=False)
    await signed_out.open("/login")
    await signed_out.at_both_widths("login")
    await signed_out.page.context.close()
