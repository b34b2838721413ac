"""The lists' filter bars, the details pages, 开票管理 and the edit form, as a browser drives
them (GET forms keep their values, 404 pages for what is not the visitor's)."""

from __future__ import annotations

from typing import Any

from tests.support.http_api import Api, ok, signed_in_pages


async def _returned(api: Api, **overrides: Any) -> dict[str, Any]:
    buyer = await api.login("leiliang")
    order = await api.place(buyer, **overrides)
    return await ok(
        api.http.post(
            f"/api/admin/orders/{order['order_no']}/return",
            json={"reason": "收货人有误"},
            headers=await api.login("bmp"),
        )
    )


async def test_edit_page_changes_the_consignee_and_the_remark(api: Api) -> None:
    order = await _returned(api, remark="旧备注")
    no = order["order_no"]
    buyer = await signed_in_pages(api, "leiliang")
    form = await buyer.get(f"/my/orders/{no}/edit")
    assert 'value="旧备注"' in form.text and "收货人信息" in form.text
    bad = await buyer.post(
        f"/my/orders/{no}/edit",
        data={"address_choice": "typed", "consignee_name": "王五", "consignee_mobile": "123"},
    )
    assert bad.status_code == 422 and "请输入正确的11位手机号" in bad.text
    done = await buyer.post(
        f"/my/orders/{no}/edit",
        data={
            "address_choice": "typed",
            "consignee_name": "王五",
            "consignee_mobile": "13900139000",
            "consignee_postcode": "200120",
            "consignee_address": "上海市峨山路91弄",
            "remark": "",
        },
    )
    assert "已修改信息并重新提交审核" in done.text
    after = await ok(api.http.get(f"/api/orders/{no}", headers=await api.login("leiliang")))
    assert after["consignee"]["name"] == "王五" and after["remark"] is None
