"""Every filter of every list narrows it: the buyer's and the back office's orders, refunds,
invoice applications (开票管理's queue keeps an issued one until shipped), finance's refunds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.calendar import SHANGHAI
from tests.support.http_api import Api, completed_jd_order, ok, refund_applied
from tests.support.samples import unique


async def _numbers(api: Api, path: str, headers: dict[str, str], **params: Any) -> list[str]:
    page = await ok(api.http.get(path, params=params, headers=headers))
    key = {"refunds": "refund_id", "invoices": "invoice_app_no"}.get(path.split("/")[-1])
    return sorted(item[key or "order_no"] for item in page["items"])


async def test_order_status_narrows_the_buyers_and_the_back_offices_lists(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    shop = unique("状态店")
    waiting = await api.place(buyer, shop_name=shop)
    voided = await api.place(buyer, shop_name=shop)
    await ok(
        api.http.post(
            f"/api/admin/orders/{voided['order_no']}/void",
            json={"reason": "测试"},
            headers=reviewer,
        )
    )
    for path, headers in (("/api/orders", buyer), ("/api/admin/orders", reviewer)):
        assert await _numbers(api, path, headers, shop_name=shop, status="submitted") == [
            waiting["order_no"]
        ]
        assert await _numbers(api, path, headers, shop_name=shop, status="voided") == [
            voided["order_no"]
        ]
        assert len(await _numbers(api, path, headers, shop_name=shop)) == 2


async def test_back_office_orders_by_invoice_number_invoice_status_and_time(api: Api) -> None:
    reviewer = await api.login("bmp")
    shop = unique("后台开票店")
    order = await completed_jd_order(api, shop_name=shop)
    other = await api.place(await api.login("zhangsan"), shop_name=shop)
    applied = order["invoices"][0]
    day = datetime.fromisoformat(order["placed_at"]).astimezone(SHANGHAI).date()

    async def listed(**params: str) -> list[str]:
        return await _numbers(api, "/api/admin/orders", reviewer, shop_name=shop, **params)

    assert len(await listed()) == 2
    assert await listed(invoice_no=applied["invoice_app_no"]) == [order["order_no"]]
    assert await listed(invoice_status="applied") == [order["order_no"]]
    assert await listed(invoice_status="shipped") == []
    assert len(await listed(placed_from=day.isoformat(), placed_to=day.isoformat())) == 2
    assert await listed(placed_to=(day - timedelta(days=1)).isoformat()) == []
    assert other["order_no"] in await listed(placed_from=other["placed_at"])


async def test_every_refund_filter_narrows_the_list(api: Api) -> None:
    shop = unique("退款筛选店")
    order = await refund_applied(api, shop_name=shop)
    refund_id = order["refund"]["refund_id"]
    day = datetime.fromisoformat(order["refund"]["applied_at"]).astimezone(SHANGHAI).date()
    for headers, path in (
        (await api.login("leiliang"), "/api/refunds"),
        (await api.login("bmp"), "/api/refunds"),
    ):

        async def listed(**params: str) -> list[str]:
            return await _numbers(api, path, headers, shop_name=shop, **params)  # noqa: B023

        assert await listed() == [refund_id]
        assert await listed(order_no=order["order_no"]) == [refund_id]
        assert await listed(order_no=unique("BS")) == []
        smo = order["service_market_order_no"]
        assert await listed(service_market_order_no=smo) == [refund_id]
        assert await listed(service_market_order_no=unique("SM")) == []
        assert await listed(platform="jd") == [refund_id]
        assert await listed(platform="taobao") == []
        assert await listed(status="applied") == [refund_id]
        assert await listed(status="agreed") == []
        assert await listed(applied_from=day.isoformat(), applied_to=day.isoformat()) == [refund_id]
        assert await listed(applied_from=(day + timedelta(days=1)).isoformat()) == []
    assert (
        await _numbers(api, "/api/refunds", await api.login("leiliang"), shop_name=unique("x"))
        == []
    )


async def test_buyer_invoices_by_order_and_status(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await completed_jd_order(api)
    applied, pending = order["invoices"]
    no = order["order_no"]
    assert await _numbers(api, "/api/invoices", buyer, order_no=no) == sorted(
        [applied["invoice_app_no"], pending["invoice_app_no"]]
    )
    assert await _numbers(api, "/api/invoices", buyer, order_no=no, status="applied") == [
        applied["invoice_app_no"]
    ]
    assert await _numbers(api, "/api/invoices", buyer, order_no=no, status="shipped") == []


async def test_back_office_invoices_queue_keeps_an_issued_one_until_shipped(api: Api) -> None:
    reviewer = await api.login("bmp")
    order = await completed_jd_order(api)
    no = order["order_no"]
    applied, pending = (i["invoice_app_no"] for i in order["invoices"])

    async def queue(**params: str) -> list[str]:
        return await _numbers(api, "/api/admin/invoices", reviewer, order_no=no, **params)

    assert await queue() == [applied]  # the pending one is nobody's work yet
    assert await queue(status="all") == sorted([applied, pending])
    assert await queue(status="pending") == [pending]
    await ok(
        api.http.post(
            f"/api/admin/invoices/{applied}/issue",
            json={"invoice_number": unique("FP")},
            headers=reviewer,
        )
    )
    assert await queue() == [applied]  # issued: still listed, to ship
    assert await queue(status="issued") == [applied]
    assert await queue(status="applied") == []
    await ok(
        api.http.post(
            f"/api/admin/invoices/{applied}/ship",
            json={"courier": "中通", "tracking_no": "123123123"},
            headers=reviewer,
        )
    )
    assert await queue() == []
    assert await queue(status="shipped") == [applied]
    page = await ok(api.http.get("/api/admin/invoices", params={"order_no": no}, headers=reviewer))
    assert (page["total"], page["page"], page["page_size"]) == (0, 1, 20)


async def test_back_office_invoices_refuse_buyers_and_bad_status(api: Api) -> None:
    buyer = await api.http.get("/api/admin/invoices", headers=await api.login("leiliang"))
    assert buyer.status_code == 403
    bad = await api.http.get(
        "/api/admin/invoices", params={"status": "lost"}, headers=await api.login("bmp")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("status")


async def test_finance_refunds_by_status(api: Api) -> None:
    finance = await api.login("finance")
    order = await refund_applied(api)
    refund_id = order["refund"]["refund_id"]
    applied = await _numbers(api, "/api/finance/refunds", finance, status="applied", page_size=100)
    agreed = await _numbers(api, "/api/finance/refunds", finance, page_size=100)
    assert refund_id in applied and refund_id not in agreed


async def test_time_filters_take_iso_8601_only_not_a_unix_time(api: Api) -> None:
    """The document says a date or an ISO-8601 time; a bare number is refused, not read as
    seconds since 1970 (schemathesis found it)."""
    reviewer = await api.login("bmp")
    for value in ("0", "1666000000", "-3", "1.5"):
        bad = await api.http.get(
            "/api/admin/orders", params={"placed_from": value}, headers=reviewer
        )
        assert bad.status_code == 422, value
        assert bad.json()["errors"] == [
            {"field": "placed_from", "message": "请填写日期（如 2022-10-18）或 ISO-8601 时间"}
        ]
    good = await api.http.get(
        "/api/admin/orders", params={"placed_from": "2022-10-18T08:00:00+08:00"}, headers=reviewer
    )
    assert good.status_code == 200
