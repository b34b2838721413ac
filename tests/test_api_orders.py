"""The HTTP contract for placing and reading orders, with validation and authorisation."""

from __future__ import annotations

import re

from tests.api_harness import PROFILE, Api, order_body


async def test_token_with_a_wrong_password_is_401(api: Api) -> None:
    response = await api.http.post("/api/auth/token", data={"username": "leiliang", "password": "nope"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_authenticated"


async def test_me_tells_who_is_signed_in(api: Api) -> None:
    me = await api.http.get("/api/me", headers=await api.login("leiliang"))
    assert me.json() == {"username": "leiliang", "role": "buyer", "company": "快乐贸易有限公司"}


async def test_orders_without_a_token_is_401(api: Api) -> None:
    assert (await api.http.get("/api/orders")).status_code == 401


async def test_admin_orders_as_buyer_is_403(api: Api) -> None:
    response = await api.http.get("/api/admin/orders", headers=await api.login("leiliang"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_place_order_as_reviewer_is_403(api: Api) -> None:
    response = await api.http.post("/api/orders", json=order_body(1), headers=await api.login("bmp"))
    assert response.status_code == 403


async def test_catalog_lists_the_guides_products_with_their_starting_price(api: Api) -> None:
    products = (await api.http.get("/api/catalog/products", params={"line": "E3", "platform": "jd"})).json()
    assert [(p["code"], p["name"], p["settlement_mode"], p["refund_share"], p["min_price_fen"]) for p in products] == [
        ("JD0001", "E3-京东开放平台对接服务", "invoice_and_refund", 0.5, 200_000)
    ]


async def test_invoice_profile_with_bad_fields_is_422_field_by_field_and_not_stored(api: Api) -> None:
    headers = await api.login("zhangsan")
    before = (await api.http.get("/api/invoice-profiles", headers=headers)).json()
    bad = PROFILE | {"recipient_mobile": "123", "taxpayer_id": "91350100M000100Y44"}
    del bad["title"]
    response = await api.http.post("/api/invoice-profiles", json=bad, headers=headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"title", "recipient_mobile", "taxpayer_id"}
    assert (await api.http.get("/api/invoice-profiles", headers=headers)).json() == before


async def test_invoice_profile_of_another_buyer_is_404(api: Api) -> None:
    profile_id = await api.profile(await api.login("leiliang"))
    response = await api.http.put(f"/api/invoice-profiles/{profile_id}", json=PROFILE, headers=await api.login("zhangsan"))
    assert response.status_code == 404


async def test_place_order_answers_the_readable_order(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    assert re.fullmatch(r"BS-ZX\d{18}", order["order_no"])
    assert re.fullmatch(r"\d{12}", order["transaction"]["serial_no"])
    assert (order["status"], order["status_label"]) == ("submitted", "付款成功")
    assert (order["subtotal_fen"], order["refundable_fen"], order["paid_here_fen"]) == (200_000, 100_000, 0)
    assert order["placed_at"].endswith("+08:00")
    assert order["contract_name"] == PROFILE["title"]
    assert order["allowed_actions"] == []
    description = await api.temporal.get_workflow_handle(order["order_no"]).describe()
    assert description.search_attributes["OrderStatus"] == ["submitted"]


async def test_place_order_with_unknown_module_is_422_and_starts_nothing(api: Api) -> None:
    headers = await api.login("leiliang")
    profile_id = await api.profile(headers)
    before = (await api.http.get("/api/orders", headers=headers)).json()["total"]
    response = await api.http.post("/api/orders", json=order_body(profile_id, module_codes=["NOPE"]), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "module_codes"
    assert (await api.http.get("/api/orders", headers=headers)).json()["total"] == before


async def test_place_order_without_accepting_the_agreement_is_422(api: Api) -> None:
    headers = await api.login("leiliang")
    profile_id = await api.profile(headers)
    response = await api.http.post("/api/orders", json=order_body(profile_id, agreement_accepted=False), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "agreement_accepted"


async def test_place_order_with_unknown_product_is_422(api: Api) -> None:
    headers = await api.login("leiliang")
    profile_id = await api.profile(headers)
    response = await api.http.post("/api/orders", json=order_body(profile_id, product_code="NOPE"), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "product_code"


async def test_place_order_with_another_buyers_profile_is_422(api: Api) -> None:
    profile_id = await api.profile(await api.login("zhangsan"))
    response = await api.http.post("/api/orders", json=order_body(profile_id), headers=await api.login("leiliang"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "invoice_profile_id"


async def test_place_order_with_missing_fields_is_422_per_field(api: Api) -> None:
    headers = await api.login("leiliang")
    body = order_body(1, reminder_email="not-an-email")
    del body["shop_name"]
    response = await api.http.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"shop_name", "reminder_email"}


async def test_place_order_refusing_buyer_set_status(api: Api) -> None:
    headers = await api.login("leiliang")
    response = await api.http.post("/api/orders", json=order_body(1, status="completed"), headers=headers)
    assert response.status_code == 422


async def test_second_live_order_for_the_same_service_market_order_is_409(api: Api) -> None:
    headers = await api.login("leiliang")
    first = await api.place(headers)
    profile_id = await api.profile(headers)
    again = order_body(profile_id, service_market_order_no=first["service_market_order_no"])
    response = await api.http.post("/api/orders", json=again, headers=headers)
    assert response.status_code == 409
    assert first["order_no"] in response.json()["detail"]


async def test_place_order_replayed_with_the_same_key_creates_one_order(api: Api) -> None:
    headers = await api.login("leiliang")
    profile_id = await api.profile(headers)
    body = order_body(profile_id)
    keyed = headers | {"Idempotency-Key": "place-once-1"}
    first = await api.http.post("/api/orders", json=body, headers=keyed)
    second = await api.http.post("/api/orders", json=body, headers=keyed)
    assert first.status_code == second.status_code == 201
    assert first.json()["order_no"] == second.json()["order_no"]
    listed = (await api.http.get("/api/orders", params={"service_market_order_no": body["service_market_order_no"]}, headers=headers)).json()
    assert listed["total"] == 1


async def test_another_buyers_order_is_404(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    response = await api.http.get(f"/api/orders/{order['order_no']}", headers=await api.login("zhangsan"))
    assert response.status_code == 404
    missing = await api.http.get("/api/orders/BS-ZX000000000000000000", headers=await api.login("zhangsan"))
    assert missing.json()["detail"].endswith("not found") and response.json()["detail"].endswith("not found")


async def test_list_orders_filters_and_counts_tabs(api: Api) -> None:
    headers = await api.login("leiliang")
    reviewer = await api.login("bmp")
    order = await api.place(headers, shop_name="筛选测试店")
    await api.http.post(f"/api/admin/orders/{order['order_no']}/void", json={"reason": "测试"}, headers=reviewer)
    page = (await api.http.get("/api/orders", params={"shop_name": "筛选测试", "tab": "failed"}, headers=headers)).json()
    assert [o["order_no"] for o in page["items"]] == [order["order_no"]]
    assert page["tab_counts"]["failed"] == 1 and page["tab_counts"]["in_progress"] == 0
    assert page["items"][0]["status_label"] == "交易失败"
    admin = (await api.http.get("/api/admin/orders", params={"order_no": order["order_no"]}, headers=reviewer)).json()
    assert admin["total"] == 1 and admin["items"][0]["buyer"] == "leiliang"


async def test_health_reports_database_and_temporal(api: Api) -> None:
    response = await api.http.get("/api/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok", "temporal": "ok"})
