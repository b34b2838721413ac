"""Placing orders (validation, duplicates, idempotency) and reading them back."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from db import queries
from tests.support.http_api import Api, ok
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
        {"field": "invoice_profile_id", "message": f"发票信息 {theirs} 不存在，请重新选择"}
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


async def test_a_retry_that_overtakes_its_first_placement_answers_that_order(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry's key lookup ran before the first attempt's run recorded the order, and
    the service-market number check after it: the number is taken by this very key, so the
    answer is the first order, not a 409 duplicate."""
    headers = await api.login("leiliang")
    body = order_body(await api.profile(headers))
    keyed = headers | {"Idempotency-Key": unique("place-")}
    first = await api.http.post("/api/orders", json=body, headers=keyed)
    assert first.status_code == 201
    real_lookup = queries.order_by_placement_key
    lookups: list[str] = []

    async def not_yet_recorded_once(session: Any, *, buyer: str, key: str) -> Any:
        lookups.append(key)
        return None if len(lookups) == 1 else await real_lookup(session, buyer=buyer, key=key)

    monkeypatch.setattr(queries, "order_by_placement_key", not_yet_recorded_once)
    retried = await api.http.post("/api/orders", json=body, headers=keyed)
    assert len(lookups) == 2
    assert retried.status_code == 201, retried.text
    assert retried.json() == first.json()
    assert await api.runs_for(body["service_market_order_no"], expect=1) == [
        first.json()["order_no"]
    ]


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
    assert theirs.json()["detail"] == f"订单 {order['order_no']} 不存在或无权查看"
    assert theirs.json().keys() == missing.json().keys()
    confirm = await api.http.post(f"/api/orders/{order['order_no']}/confirm-receipt", headers=other)
    assert confirm.status_code == 404
