"""修改信息 over HTTP: a returned order edited and resubmitted, and what it refuses."""

from __future__ import annotations

from typing import Any

from tests.support.http_api import (
    Api,
    ok,
)


async def test_edit_order_when_not_returned_is_409(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await api.place(buyer)
    response = await api.http.put(
        f"/api/orders/{order['order_no']}", json={"shop_name": "x"}, headers=buyer
    )
    assert response.status_code == 409
    assert (
        response.json()["detail"]
        == f"订单 {order['order_no']} 当前为「付款成功」，修改信息需要「打回」"
    )


async def _returned_order(api: Api, buyer: dict[str, str], **overrides: Any) -> dict[str, Any]:
    order = await api.place(buyer, reminder_backup_email="backup@example.com", **overrides)
    reason = {"reason": "店铺名称有误"}
    no = order["order_no"]
    return await ok(
        api.http.post(f"/api/admin/orders/{no}/return", json=reason, headers=await api.login("bmp"))
    )


async def test_edit_order_takes_any_subset_of_the_placing_body(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer)
    edited = await ok(
        api.http.put(
            f"/api/orders/{order['order_no']}",
            json={"shop_name": "快乐京东店", "agreement_accepted": True},
            headers=buyer,
        )
    )
    assert (edited["status"], edited["shop_name"]) == ("submitted", "快乐京东店")


async def test_edit_order_clearing_a_required_field_is_422_and_changes_nothing(
    api: Api,
) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer)
    no = order["order_no"]
    response = await api.http.put(
        f"/api/orders/{no}",
        json={"shop_name": None, "reminder_email": None, "agreement_accepted": False},
        headers=buyer,
    )
    assert response.status_code == 422
    assert sorted((e["field"], e["message"]) for e in response.json()["errors"]) == [
        ("agreement_accepted", "请阅读并同意店铺订购协议"),
        ("reminder_email", "请填写到期提醒接收人邮箱"),
        ("shop_name", "请填写店铺名称"),
    ]
    after = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
    assert (after["status"], after["shop_name"]) == ("returned", order["shop_name"])


async def test_edit_order_clears_the_backup_email_when_sent_null(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer)
    assert order["reminder_backup_email"] == "backup@example.com"
    edited = await ok(
        api.http.put(
            f"/api/orders/{order['order_no']}",
            json={"reminder_backup_email": None},
            headers=buyer,
        )
    )
    assert (edited["status"], edited["reminder_backup_email"]) == ("submitted", None)


async def test_edit_order_switches_the_invoice_profile_snapshot(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    order = await api.place(buyer)
    no = order["order_no"]
    await ok(
        api.http.post(
            f"/api/admin/orders/{no}/return", json={"reason": "抬头有误"}, headers=reviewer
        )
    )
    profile_id = await api.profile(
        buyer, title="快乐贸易（上海）有限公司", invoice_type="vat_normal"
    )
    theirs = await api.profile(await api.login("zhangsan"))
    refused = await api.http.put(
        f"/api/orders/{no}", json={"invoice_profile_id": theirs}, headers=buyer
    )
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (
        422,
        "invoice_profile_id",
    )
    edited = await ok(
        api.http.put(f"/api/orders/{no}", json={"invoice_profile_id": profile_id}, headers=buyer)
    )
    assert (edited["invoice_profile"]["id"], edited["invoice_profile"]["title"]) == (
        profile_id,
        "快乐贸易（上海）有限公司",
    )
    assert edited["invoice_profile"]["invoice_type_label"] == "增值税普通发票"


async def test_edit_order_to_a_taken_service_market_no_is_409(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    taken = await api.place(buyer)
    order = await api.place(buyer)
    no = order["order_no"]
    await ok(
        api.http.post(
            f"/api/admin/orders/{no}/return", json={"reason": "单号有误"}, headers=reviewer
        )
    )
    body = {"service_market_order_no": taken["service_market_order_no"]}
    response = await api.http.put(f"/api/orders/{no}", json=body, headers=buyer)
    assert (response.status_code, response.json()["code"]) == (409, "duplicate")
    assert (await ok(api.http.get(f"/api/orders/{no}", headers=buyer)))["status"] == "returned"


CONSIGNEE = {
    "name": "王五",
    "mobile": "13900139000",
    "postcode": "200120",
    "address": "上海市峨山路91弄",
}


async def test_edit_order_takes_a_typed_consignee_and_a_remark(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer)
    edited = await ok(
        api.http.put(
            f"/api/orders/{order['order_no']}",
            json={"consignee": CONSIGNEE, "remark": "请周一送达"},
            headers=buyer,
        )
    )
    assert edited["status"] == "submitted"
    assert {k: edited["consignee"][k] for k in CONSIGNEE} == CONSIGNEE
    assert edited["remark"] == "请周一送达"
    assert "收货人信息、备注" in edited["events"][-1]["detail"]


async def test_edit_order_takes_a_saved_address_and_clears_the_remark(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer, remark="旧备注")
    assert order["remark"] == "旧备注"
    saved = await ok(api.http.post("/api/addresses", json=CONSIGNEE, headers=buyer), 201)
    edited = await ok(
        api.http.put(
            f"/api/orders/{order['order_no']}",
            json={"address_id": saved["id"], "remark": None},
            headers=buyer,
        )
    )
    assert edited["consignee"]["address_id"] == saved["id"]
    assert edited["remark"] is None
    assert edited["shop_name"] == order["shop_name"]  # left out: kept


async def test_edit_order_with_another_buyers_address_is_422_and_changes_nothing(
    api: Api,
) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer)
    others = await ok(
        api.http.post("/api/addresses", json=CONSIGNEE, headers=await api.login("zhangsan")), 201
    )
    no = order["order_no"]
    response = await api.http.put(
        f"/api/orders/{no}", json={"address_id": others["id"]}, headers=buyer
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "address_id", "message": "收货地址不存在，请重新选择"}
    ]
    after = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
    assert (after["status"], after["consignee"]) == ("returned", order["consignee"])


async def test_edit_order_refuses_product_and_modules(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await _returned_order(api, buyer)
    response = await api.http.put(
        f"/api/orders/{order['order_no']}",
        json={"product_code": "TB0001", "module_codes": ["x"]},
        headers=buyer,
    )
    assert response.status_code == 422
