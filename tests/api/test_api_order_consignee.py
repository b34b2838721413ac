"""Placing an order with its 收货人信息 (typed or a saved 收货地址), 备注, and its AppKey."""

from __future__ import annotations

import re
from typing import Any

from tests.support.http_api import Api, ok
from tests.support.samples import order_body

CONSIGNEE: dict[str, Any] = {
    "name": "张三",
    "mobile": "13800138000",
    "phone": "021-12345678",
    "postcode": "200120",
    "address": "上海市浦东新区峨山路91弄120号",
}


async def _address(api: Api, username: str, **overrides: Any) -> int:
    headers = await api.login(username)
    created = await ok(
        api.http.post("/api/addresses", json=CONSIGNEE | overrides, headers=headers), 201
    )
    return int(created["id"])


async def _refused(api: Api, **overrides: Any) -> list[dict[str, str]]:
    headers = await api.login("leiliang")
    response = await api.http.post(
        "/api/orders", json=order_body(await api.profile(headers), **overrides), headers=headers
    )
    assert response.status_code == 422, response.text
    return list(response.json()["errors"])


async def test_place_order_with_typed_consignee_keeps_it_and_the_remark(api: Api) -> None:
    order = await api.place(await api.login("leiliang"), consignee=CONSIGNEE, remark="请尽快开通")
    assert order["consignee"] == CONSIGNEE | {"address_id": None}
    assert order["remark"] == "请尽快开通"
    headers = await api.login("leiliang")
    read = await ok(api.http.get(f"/api/orders/{order['order_no']}", headers=headers))
    assert (read["consignee"], read["remark"]) == (order["consignee"], "请尽快开通")


async def test_place_order_with_address_id_snapshots_the_saved_address(api: Api) -> None:
    address_id = await _address(api, "leiliang", name="李四")
    headers = await api.login("leiliang")
    order = await api.place(headers, address_id=address_id)
    assert order["consignee"] == CONSIGNEE | {"name": "李四", "address_id": address_id}
    # A later change of the address leaves the order's snapshot as it was.
    await ok(
        api.http.put(
            f"/api/addresses/{address_id}", json=CONSIGNEE | {"name": "王五"}, headers=headers
        )
    )
    read = await ok(api.http.get(f"/api/orders/{order['order_no']}", headers=headers))
    assert read["consignee"]["name"] == "李四"


async def test_place_order_without_consignee_has_none(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    assert (order["consignee"], order["remark"]) == (None, None)


async def test_place_order_with_another_buyers_address_is_422(api: Api) -> None:
    address_id = await _address(api, "zhangsan")
    errors = await _refused(api, address_id=address_id)
    assert errors == [{"field": "address_id", "message": "收货地址不存在，请重新选择"}]


async def test_place_order_with_remark_over_200_characters_is_422(api: Api) -> None:
    errors = await _refused(api, remark="备" * 201)
    assert errors == [{"field": "remark", "message": "备注最多200个字"}]


async def test_place_order_with_line_break_in_remark_is_422(api: Api) -> None:
    errors = await _refused(api, remark="第一行\n第二行")
    assert errors == [{"field": "remark", "message": "备注不能包含换行或控制字符"}]


async def test_place_order_with_bad_consignee_is_422_per_field(api: Api) -> None:
    errors = await _refused(api, consignee=CONSIGNEE | {"mobile": "123", "postcode": "2001"})
    assert sorted(errors, key=lambda e: e["field"]) == [
        {"field": "consignee.mobile", "message": "请输入正确的11位手机号"},
        {"field": "consignee.postcode", "message": "邮政编码应为6位数字"},
    ]


async def test_place_order_makes_a_unique_app_key(api: Api) -> None:
    headers = await api.login("leiliang")
    first = await api.place(headers)
    second = await api.place(headers)
    for order in (first, second):
        assert re.fullmatch(r"[0-9A-F]{32}", order["app_key"])
    assert first["app_key"] != second["app_key"]


async def test_place_order_with_both_consignee_and_address_id_is_422(api: Api) -> None:
    address_id = await _address(api, "leiliang")
    errors = await _refused(api, consignee=CONSIGNEE, address_id=address_id)
    assert errors == [
        {"field": "address_id", "message": "收货人信息请选择收货地址或填写，不能同时提供"}
    ]
