"""收货地址 in the buyer center, and the consignee, remark and AppKey on the checkout and
in the order's details."""

from __future__ import annotations

import re

import httpx

from tests.support.http_api import Api, refused_back_to, signed_in_pages
from tests.support.samples import ORDER_CONTACTS, PROFILE, unique

ADDRESS = {
    "name": "张三",
    "mobile": "13800138000",
    "phone": "021-12345678",
    "postcode": "200120",
    "address": "上海市浦东新区峨山路91弄120号",
}


def _address_id(page: str, name: str) -> str:
    """The id of the address named ``name``: the one whose edit form holds that name."""
    for found in re.finditer(r'<form method="post" action="/my/addresses/(\d+)" class', page):
        edit_form = page[found.end() : page.index("</form>", found.end())]
        if f'value="{name}"' in edit_form:
            return found.group(1)
    raise AssertionError(f"no address {name} on the page")


async def _checked_choice(buyer: httpx.AsyncClient) -> str:
    checkout = await buyer.get("/shop/JD0001/checkout?module=ERP")
    found = re.search(r'name="address_choice" value="([^"]*)" checked', checkout.text)
    assert found is not None
    return found.group(1)


async def test_address_book_adds_marks_default_and_deletes(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    name = unique("收")
    added = await buyer.post("/my/addresses", data=ADDRESS | {"name": name})
    assert "收货地址已保存" in added.text and name in added.text
    assert 'href="/my/addresses" class="on">收货地址' in added.text
    address_id = _address_id(added.text, name)
    marked = await buyer.post(f"/my/addresses/{address_id}/default")
    assert "已设为默认地址" in marked.text
    assert await _checked_choice(buyer) == address_id
    deleted = await buyer.post(f"/my/addresses/{address_id}/delete")
    assert "收货地址已删除" in deleted.text and name not in deleted.text


async def test_address_book_bad_fields_show_beside_them_and_keep_what_was_typed(
    api: Api,
) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    name = unique("坏")
    page = await buyer.post(
        "/my/addresses", data=ADDRESS | {"name": name, "postcode": "2001", "mobile": ""}
    )
    assert refused_back_to(page, "/my/addresses")
    assert "邮政编码应为6位数字" in page.text and "请填写手机" in page.text
    assert f'value="{name}"' in page.text
    listed = await buyer.get("/my/addresses")
    assert name not in listed.text


async def test_checkout_preselects_the_default_address(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    name = unique("默")
    page = await buyer.post("/my/addresses", data=ADDRESS | {"name": name, "is_default": "true"})
    assert await _checked_choice(buyer) == _address_id(page.text, name)


async def test_order_details_show_app_key_consignee_and_remark(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    await buyer.post("/my/profiles", data=PROFILE | {"back": "/shop"})
    checkout = await buyer.get("/shop/JD0001/checkout?module=ERP")
    profile_id = re.search(r'name="invoice_profile_id" value="(\d+)"', checkout.text).group(1)  # type: ignore[union-attr]
    placed = await buyer.post(
        "/shop/JD0001/checkout",
        data={
            "module_codes": "ERP", "invoice_profile_id": profile_id,
            "service_market_order_no": unique("SM"), "shop_name": "收货测试店", **ORDER_CONTACTS,
            "address_choice": "typed", **{f"consignee_{k}": v for k, v in ADDRESS.items()},
            "remark": "请尽快开通", "agreement_accepted": "true",
        },
    )  # fmt: skip
    order_no = re.search(r"主订单号 (BS-ZX\d{18})", placed.text).group(1)  # type: ignore[union-attr]
    detail = (await buyer.get(f"/my/orders?expand={order_no}")).text
    assert re.search(r"AppKey: [0-9A-F]{32}<", detail)
    assert "收货人信息" in detail and "姓名: 张三" in detail and "固定电话: 021-12345678" in detail
    assert "邮政编码: 200120" in detail and f"地址: {ADDRESS['address']}" in detail
    assert "请尽快开通" in detail


async def test_checkout_typed_consignee_with_bad_mobile_shows_it(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.post(
        "/shop/JD0001/checkout",
        data={
            "module_codes": "ERP",
            "address_choice": "typed",
            "consignee_name": "张三",
            "consignee_mobile": "123",
            "consignee_address": "上海",
            "agreement_accepted": "true",
        },
    )
    assert refused_back_to(page, "/shop/JD0001/checkout")
    assert "请输入正确的11位手机号" in page.text and "请填写邮政编码" in page.text
