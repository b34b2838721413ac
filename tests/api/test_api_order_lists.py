"""Listing and finding orders, refunds and invoices; the catalog."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.calendar import SHANGHAI
from tests.support.http_api import Api, completed_jd_order, ok, refund_applied
from tests.support.samples import unique


async def test_list_orders_filters_and_counts_tabs(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    shop = unique("筛选店")
    waiting = await api.place(buyer, shop_name=shop)
    voided = await api.place(buyer, shop_name=shop)
    await ok(
        api.http.post(
            f"/api/admin/orders/{voided['order_no']}/void",
            json={"reason": "测试"},
            headers=reviewer,
        )
    )
    refunding = await refund_applied(api, shop_name=shop)

    page = await ok(api.http.get("/api/orders", params={"shop_name": shop[2:]}, headers=buyer))
    assert page["tab_counts"] == {
        "all": 3,
        "in_progress": 1,
        "completed": 1,
        "failed": 1,
        "refunding": 1,
    }
    assert page["total"] == 3 and (page["page"], page["page_size"]) == (1, 20)
    for tab, expected in (
        ("in_progress", waiting),
        ("failed", voided),
        ("refunding", refunding),
        ("completed", refunding),
    ):
        listed = await ok(
            api.http.get("/api/orders", params={"shop_name": shop, "tab": tab}, headers=buyer)
        )
        assert [o["order_no"] for o in listed["items"]] == [expected["order_no"]], tab
        assert listed["total"] == 1 and listed["tab_counts"] == page["tab_counts"]
    assert (
        await ok(
            api.http.get("/api/orders", params={"shop_name": shop, "tab": "failed"}, headers=buyer)
        )
    )["items"][0]["status_label"] == "交易失败"


async def test_list_orders_by_invoice_number_and_status(api: Api) -> None:
    buyer = await api.login("leiliang")
    shop = unique("开票店")
    order = await completed_jd_order(api, shop_name=shop)
    await api.place(buyer, shop_name=shop)
    applied, pending = order["invoices"]
    by_number = await ok(
        api.http.get("/api/orders", params={"invoice_no": pending["invoice_app_no"]}, headers=buyer)
    )
    assert [o["order_no"] for o in by_number["items"]] == [order["order_no"]]
    by_status = await ok(
        api.http.get(
            "/api/orders", params={"shop_name": shop, "invoice_status": "pending"}, headers=buyer
        )
    )
    assert [o["order_no"] for o in by_status["items"]] == [order["order_no"]]
    assert by_status["tab_counts"]["all"] == 1
    issued = {"invoice_number": unique("FP")}
    await ok(
        api.http.post(
            f"/api/admin/invoices/{applied['invoice_app_no']}/issue",
            json=issued,
            headers=await api.login("bmp"),
        )
    )
    by_invoice = await ok(
        api.http.get("/api/orders", params={"invoice_no": issued["invoice_number"]}, headers=buyer)
    )
    assert [o["order_no"] for o in by_invoice["items"]] == [order["order_no"]]


async def test_list_orders_by_platform_and_time(api: Api) -> None:
    buyer = await api.login("leiliang")
    shop = unique("时间店")
    order = await api.place(buyer, shop_name=shop)
    day = datetime.fromisoformat(order["placed_at"]).astimezone(SHANGHAI).date()

    async def count(**params: str) -> int:
        return int(
            (
                await ok(
                    api.http.get("/api/orders", params={"shop_name": shop, **params}, headers=buyer)
                )
            )["total"]
        )

    assert (await count(platform="jd"), await count(platform="taobao")) == (1, 0)
    assert await count(placed_from=day.isoformat(), placed_to=day.isoformat()) == 1
    assert await count(placed_to=(day - timedelta(days=1)).isoformat()) == 0
    assert await count(placed_from=(day + timedelta(days=1)).isoformat()) == 0
    assert await count(placed_from=order["placed_at"], placed_to=order["placed_at"]) == 1


async def test_list_orders_pages_newest_first(api: Api) -> None:
    buyer = await api.login("leiliang")
    shop = unique("分页店")
    placed = {(await api.place(buyer, shop_name=shop))["order_no"] for _ in range(3)}
    first = await ok(
        api.http.get("/api/orders", params={"shop_name": shop, "page_size": 2}, headers=buyer)
    )
    second = await ok(
        api.http.get(
            "/api/orders", params={"shop_name": shop, "page_size": 2, "page": 2}, headers=buyer
        )
    )
    items = first["items"] + second["items"]
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert {o["order_no"] for o in items} == placed
    assert [o["placed_at"] for o in items] == sorted((o["placed_at"] for o in items), reverse=True)


async def test_list_orders_next_cursor_pages_like_page_numbers(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    shop = unique("游标店")
    for _ in range(3):
        await api.place(buyer, shop_name=shop)
    for path, who in (("/api/orders", buyer), ("/api/admin/orders", reviewer)):
        query: dict[str, str | int] = {"shop_name": shop, "page_size": 2}
        first = await ok(api.http.get(path, params=query, headers=who))
        by_number = await ok(api.http.get(path, params=query | {"page": 2}, headers=who))
        by_cursor = await ok(
            api.http.get(path, params=query | {"cursor": first["next_cursor"]}, headers=who)
        )
        assert by_cursor["items"] == by_number["items"] and len(by_cursor["items"]) == 1
        assert (by_cursor["page"], by_cursor["page_size"], by_cursor["total"]) == (2, 2, 3)
        assert by_cursor["tab_counts"] == first["tab_counts"]
        # The last page leads nowhere.
        assert by_cursor["next_cursor"] is None and by_number["next_cursor"] is None


async def test_list_orders_unreadable_cursor_is_422(api: Api) -> None:
    buyer = await api.login("leiliang")
    for cursor in (
        "not-a-cursor",
        "WzEsIjIwMjYiLCJ4Il0",
        "WzAsIjIwMjYtMDEtMDFUMDA6MDA6MDBaIiwiQlMiXQ",
    ):
        response = await api.http.get("/api/orders", params={"cursor": cursor}, headers=buyer)
        assert response.status_code == 422, cursor
        [error] = response.json()["errors"]
        assert error["field"] == "cursor" and "翻页位置" in error["message"]


async def test_list_orders_bad_query_is_422_per_field(api: Api) -> None:
    response = await api.http.get(
        "/api/orders",
        params={
            "tab": "archived",
            "platform": "ebay",
            "page_size": 101,
            "placed_from": "18/10/2022",
        },
        headers=await api.login("leiliang"),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "tab",
        "platform",
        "page_size",
        "placed_from",
    }


async def test_admin_orders_lists_every_buyer(api: Api) -> None:
    shop = unique("两家店")
    mine = await api.place(await api.login("leiliang"), shop_name=shop)
    theirs = await api.place(await api.login("zhangsan"), shop_name=shop)
    staff = await ok(
        api.http.get(
            "/api/admin/orders", params={"shop_name": shop}, headers=await api.login("bmp")
        )
    )
    assert {(o["order_no"], o["buyer"]) for o in staff["items"]} == {
        (mine["order_no"], "leiliang"),
        (theirs["order_no"], "zhangsan"),
    }
    assert staff["tab_counts"]["in_progress"] == 2
    own = await ok(
        api.http.get("/api/orders", params={"shop_name": shop}, headers=await api.login("leiliang"))
    )
    assert [o["order_no"] for o in own["items"]] == [mine["order_no"]]


async def test_list_refunds_and_invoices_are_the_buyers_own(api: Api) -> None:
    order = await refund_applied(api)
    no, refund_id = order["order_no"], order["refund"]["refund_id"]
    other, staff = await api.login("zhangsan"), await api.login("bmp")
    assert (await ok(api.http.get("/api/refunds", params={"order_no": no}, headers=other)))[
        "total"
    ] == 0
    assert (await ok(api.http.get("/api/invoices", params={"order_no": no}, headers=other)))[
        "total"
    ] == 0
    assert (await api.http.get(f"/api/refunds/{refund_id}", headers=other)).status_code == 404
    invoice_no = order["invoices"][0]["invoice_app_no"]
    assert (await api.http.get(f"/api/invoices/{invoice_no}", headers=other)).status_code == 404
    refunds = await ok(
        api.http.get("/api/refunds", params={"order_no": no, "status": "applied"}, headers=staff)
    )
    assert [r["refund_id"] for r in refunds["items"]] == [refund_id]
    invoices = await ok(api.http.get("/api/invoices", params={"order_no": no}, headers=staff))
    assert sorted(i["status"] for i in invoices["items"]) == ["applied", "pending"]


async def test_catalog_lists_products_with_their_starting_price(api: Api) -> None:
    response = await api.http.get("/api/catalog/products", params={"line": "E3", "platform": "jd"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "JD0001", "line": "E3", "platform": "jd", "platform_label": "京东",
            "name": "E3-京东开放平台对接服务", "settlement_mode": "invoice_and_refund",
            "settlement_mode_label": "开票/退款", "refund_share": 0.5,
            "modules": response.json()[0]["modules"], "min_price_fen": 200_000,
            "agreement": "《店铺订购协议-E3》", "notice": response.json()[0]["notice"],
        }
    ]  # fmt: skip
    assert {"code": "ERP", "name": "百胜电商ERP", "price_fen": 200_000} in response.json()[0][
        "modules"
    ]


async def test_catalog_without_filters_lists_every_line(api: Api) -> None:
    products = (await api.http.get("/api/catalog/products")).json()
    assert {p["line"] for p in products} == {"E3", "ME3", "E3+"}
    assert {"JSFW0001", "JD0001"} <= {p["code"] for p in products}
