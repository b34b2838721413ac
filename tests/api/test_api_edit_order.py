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


async def _returned_order(api: Api, buyer: dict[str, str]) -> dict[str, Any]:
    order = await api.place(buyer, reminder_backup_email="backup@example.com")
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
