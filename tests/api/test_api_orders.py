"""Placing orders (validation, duplicates, idempotency) and reading them back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from domain.calendar import SHANGHAI
from tests.support.http_api import Api, completed_jd_order, ok, refund_applied
from tests.support.samples import PROFILE, order_body, unique


async def test_place_order_answers_the_recorded_order(api: Api) -> None:
    order = await api.place(await api.login("leiliang"), module_codes=["ERP", "WMS"])
    placed_at = datetime.fromisoformat(order["placed_at"])
    assert order["placed_at"].endswith("+08:00") and order["service_end_at"].endswith("+08:00")
    assert order["order_no"] == f"BS-ZX{placed_at:%Y%m%d%H%M%S}{order['order_no'][-4:]}"
    assert re.fullmatch(rf"{placed_at:%y%m%d}\d{{6}}", order["transaction"]["serial_no"])
    assert datetime.fromisoformat(order["service_end_at"]) == placed_at.replace(
        year=placed_at.year + 1
    )
    assert (order["status"], order["status_label"]) == ("submitted", "付款成功")
    assert order["product"] == {
        "code": "JD0001", "name": "E3-京东开放平台对接服务", "line": "E3", "platform": "jd",
        "platform_label": "京东", "settlement_mode": "invoice_and_refund",
        "settlement_mode_label": "开票/退款",
    }  # fmt: skip
    assert [m["code"] for m in order["modules"]] == ["ERP", "WMS"]
    assert (order["standard_fen"], order["discount_fen"], order["subtotal_fen"]) == (
        400_000,
        0,
        400_000,
    )
    assert (order["paid_here_fen"], order["platform_amount_fen"], order["refundable_fen"]) == (
        0,
        None,
        200_000,
    )
    assert order["transaction"] | {"serial_no": ""} == {
        "serial_no": "", "product_code": "JD0001", "payment_method": "第三方支付",
        "standard_fen": 400_000, "paid_here_fen": 0, "discount_fen": 0, "subtotal_fen": 400_000,
    }  # fmt: skip
    assert order["contract_name"] == PROFILE["title"]
    assert order["invoice_profile"]["title"] == PROFILE["title"]
    assert (order["invoices"], order["refund"], order["refund_decision"]) == ([], None, None)
    assert order["allowed_actions"] == []
    assert [(e["action"], e["action_label"]) for e in order["events"]] == [
        ("place", "店铺订购结算")
    ]
    description = await api.temporal.get_workflow_handle(order["order_no"]).describe()
    assert description.search_attributes["OrderStatus"] == ["submitted"]
    assert description.search_attributes["BuyerId"] == ["leiliang"]
    assert order["shop_name"] in (await description.static_summary() or "")


async def test_place_order_reviewer_sees_approve_among_allowed_actions(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    seen = await ok(
        api.http.get(f"/api/orders/{order['order_no']}", headers=await api.login("bmp"))
    )
    assert seen["allowed_actions"] == ["approve", "return", "void"]


async def test_place_order_keeps_the_contract_name_given(api: Api) -> None:
    order = await api.place(await api.login("leiliang"), contract_name="电子章备案号")
    assert order["contract_name"] == "电子章备案号"


async def _refused_placement(api: Api, buyer: str, **overrides: Any) -> dict[str, Any]:
    """Post a placement that must be refused with 422; checks that nothing started."""
    headers = await api.login(buyer)
    profile_id = await api.profile(headers)
    body = order_body(profile_id, **overrides)
    response = await api.http.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 422, response.text
    listed = await ok(
        api.http.get(
            "/api/orders",
            params={"service_market_order_no": body["service_market_order_no"]},
            headers=headers,
        )
    )
    assert listed["total"] == 0
    assert await api.runs_for(str(body["service_market_order_no"])) == []
    return dict(response.json())


async def test_place_order_unknown_product_is_422_and_starts_nothing(api: Api) -> None:
    problem = await _refused_placement(api, "leiliang", product_code="NOPE")
    assert problem["errors"] == [
        {"field": "product_code", "message": "no product NOPE in the catalog"}
    ]


async def test_place_order_unknown_module_is_422_and_starts_nothing(api: Api) -> None:
    problem = await _refused_placement(api, "leiliang", module_codes=["ERP", "NOPE"])
    assert problem["errors"] == [
        {"field": "module_codes", "message": "unknown module(s) for JD0001: NOPE"}
    ]


async def test_place_order_without_agreement_is_422_and_starts_nothing(api: Api) -> None:
    problem = await _refused_placement(api, "leiliang", agreement_accepted=False)
    assert problem["errors"] == [
        {"field": "agreement_accepted", "message": "请阅读并同意《店铺订购协议-E3》"}
    ]


async def test_place_order_with_another_buyers_profile_is_422_and_starts_nothing(api: Api) -> None:
    theirs = await api.profile(await api.login("zhangsan"))
    problem = await _refused_placement(api, "leiliang", invoice_profile_id=theirs)
    assert problem["errors"] == [
        {"field": "invoice_profile_id", "message": f"no invoice profile {theirs} of yours"}
    ]


async def test_place_order_names_every_bad_field_at_once(api: Api) -> None:
    problem = await _refused_placement(
        api, "leiliang", module_codes=["NOPE"], invoice_profile_id=999_999, agreement_accepted=False
    )
    assert [e["field"] for e in problem["errors"]] == [
        "module_codes",
        "invoice_profile_id",
        "agreement_accepted",
    ]


async def test_place_order_missing_and_malformed_fields_are_422_per_field(api: Api) -> None:
    body = order_body(
        1, reminder_email="not-an-email", reminder_mobile="1380013800", module_codes=[]
    )
    del body["shop_name"]
    response = await api.http.post("/api/orders", json=body, headers=await api.login("leiliang"))
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"shop_name", "reminder_email", "reminder_mobile", "module_codes"}
    assert errors["reminder_mobile"] == "请输入正确的11位手机号"


async def test_place_order_with_a_status_of_its_own_is_422(api: Api) -> None:
    response = await api.http.post(
        "/api/orders", json=order_body(1, status="completed"), headers=await api.login("leiliang")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


async def test_place_order_same_service_market_no_is_409(api: Api) -> None:
    headers = await api.login("leiliang")
    first = await api.place(headers)
    profile_id = await api.profile(headers)
    again = order_body(profile_id, service_market_order_no=first["service_market_order_no"])
    response = await api.http.post("/api/orders", json=again, headers=headers)
    assert (response.status_code, response.json()["code"]) == (409, "duplicate")
    assert first["order_no"] in response.json()["detail"]
    assert await api.runs_for(first["service_market_order_no"], expect=1) == [first["order_no"]]


async def test_place_order_another_buyers_service_market_no_is_409_without_their_order(
    api: Api,
) -> None:
    first = await api.place(await api.login("leiliang"))
    headers = await api.login("zhangsan")
    body = order_body(
        await api.profile(headers), service_market_order_no=first["service_market_order_no"]
    )
    response = await api.http.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 409
    assert first["order_no"] not in response.json()["detail"]


async def test_place_order_after_void_may_reuse_the_service_market_no(api: Api) -> None:
    headers = await api.login("leiliang")
    first = await api.place(headers)
    await ok(
        api.http.post(
            f"/api/admin/orders/{first['order_no']}/void",
            json={"reason": "重复下单"},
            headers=await api.login("bmp"),
        )
    )
    second = await api.place(headers, service_market_order_no=first["service_market_order_no"])
    assert second["order_no"] != first["order_no"]


async def test_place_order_same_idempotency_key_creates_one_order(api: Api) -> None:
    headers = await api.login("leiliang")
    body = order_body(await api.profile(headers))
    keyed = headers | {"Idempotency-Key": unique("place-")}
    first = await api.http.post("/api/orders", json=body, headers=keyed)
    second = await api.http.post("/api/orders", json=body, headers=keyed)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert await api.runs_for(body["service_market_order_no"], expect=1) == [
        first.json()["order_no"]
    ]
    listed = await ok(
        api.http.get(
            "/api/orders",
            params={"service_market_order_no": body["service_market_order_no"]},
            headers=headers,
        )
    )
    assert listed["total"] == 1


async def test_get_order_of_another_buyer_is_404_like_a_missing_one(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    other = await api.login("zhangsan")
    theirs = await api.http.get(f"/api/orders/{order['order_no']}", headers=other)
    missing = await api.http.get("/api/orders/BS-ZX202210181408310000", headers=other)
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert theirs.json()["detail"] == f"order {order['order_no']} not found"
    assert theirs.json().keys() == missing.json().keys()
    confirm = await api.http.post(f"/api/orders/{order['order_no']}/confirm-receipt", headers=other)
    assert confirm.status_code == 404


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
