"""One-line text.

Threat: a line break in a shop name or reason reaches an e-mail header, where it raised on
every retry and jammed the order's notices (or injected headers).

Control: one-line fields refuse line breaks and control characters at the API and the pages,
field by field, in Chinese.

One-line text (names, shop, nick, reasons, courier, bank fields…) refuses line breaks and
control characters, field by field, through the API, the pages and the commands themselves.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.commands import Payout, ReturnOrder, ShipInvoice
from domain.order import Actor
from domain.statuses import Role
from tests.support.http_api import Api, refund_chosen_as, refused_back_to
from tests.support.http_api import signed_in_pages as sign_in
from tests.support.samples import PDF, PROFILE, REFUND_FORM, order_body, unique

REVIEWER = Actor(username="bmp", role=Role.REVIEWER, company="百胜软件")
HEADER_INJECTION = "快乐店\r\nBcc: victim@example.com"


async def test_place_order_shop_name_with_line_break_is_422_and_places_nothing(api: Api) -> None:
    buyer = await api.login("leiliang")
    profile_id = await api.profile(buyer)
    body = order_body(profile_id, shop_name=HEADER_INJECTION)

    response = await api.http.post("/api/orders", json=body, headers=buyer)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "shop_name", "message": "店铺名称不能包含换行或控制字符"}
    ]
    assert await api.runs_for(body["service_market_order_no"]) == []


async def test_place_order_each_name_field_with_control_character_is_named(api: Api) -> None:
    buyer = await api.login("leiliang")
    profile_id = await api.profile(buyer)
    body = order_body(
        profile_id,
        contract_name="快乐\x1b[31m贸易",
        seller_nick="kuai\tle",
        baison_staff="王\u2028工",
        reminder_name="李\x85雷",
    )

    response = await api.http.post("/api/orders", json=body, headers=buyer)

    assert response.status_code == 422
    assert sorted((e["field"], e["message"]) for e in response.json()["errors"]) == [
        ("baison_staff", "百胜服务人员不能包含换行或控制字符"),
        ("contract_name", "客户签约名称不能包含换行或控制字符"),
        ("reminder_name", "到期提醒接收人不能包含换行或控制字符"),
        ("seller_nick", "卖家 NICK不能包含换行或控制字符"),
    ]


async def test_save_invoice_profile_title_and_recipient_with_line_break_is_422(api: Api) -> None:
    buyer = await api.login("zhangsan")
    body = PROFILE | {"title": "示例\n科技", "recipient_address": "上海市\r\n浦东新区"}

    response = await api.http.post("/api/invoice-profiles", json=body, headers=buyer)

    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["recipient_address", "title"]


async def test_return_order_reason_with_line_break_is_422_and_changes_nothing(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await api.place(buyer)
    reviewer = await api.login("bmp")

    response = await api.http.post(
        f"/api/admin/orders/{order['order_no']}/return",
        json={"reason": "店铺名称有误\r\nSubject: 已退款"},
        headers=reviewer,
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "reason", "message": "原因不能包含换行或控制字符"}
    ]
    after = (await api.http.get(f"/api/orders/{order['order_no']}", headers=buyer)).json()
    assert (after["status"], after["version"]) == (order["status"], order["version"])


async def test_apply_refund_bank_field_with_line_break_is_422(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await refund_chosen_as(api, buyer)

    response = await api.http.post(
        f"/api/orders/{no}/refund",
        data=REFUND_FORM | {"branch": "上海\n陆家嘴支行"},
        files={"proof": ("证明.pdf", PDF, "application/pdf")},
        headers=buyer,
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "branch", "message": "开户支行不能包含换行或控制字符"}
    ]


async def test_checkout_page_shop_name_with_line_break_shows_the_field_error(api: Api) -> None:
    buyer = await sign_in(api, "leiliang")
    await buyer.post("/my/profiles", data=PROFILE | {"back": "/shop"})
    shop = unique("坏店")

    page = await buyer.post(
        "/shop/JD0001/checkout",
        data={
            "module_codes": "ERP",
            "service_market_order_no": unique("SM"),
            "shop_name": f"{shop}\r\nBcc: victim@example.com",
            "seller_nick": "kuaile",
            "baison_staff": "王工",
            "reminder_name": "李雷",
            "reminder_mobile": "13800138000",
            "reminder_email": "lilei@example.com",
            "agreement_accepted": "true",
        },
    )

    assert refused_back_to(page, "/shop/JD0001/checkout")
    assert "店铺名称不能包含换行或控制字符" in page.text and "Value error" not in page.text
    orders = await buyer.get(f"/my/orders?shop_name={shop}")
    assert "没有符合条件的订单" in orders.text


@pytest.mark.parametrize(
    "build",
    [
        lambda: ReturnOrder(actor=REVIEWER, reason="有误\nBcc: x@example.com"),
        lambda: ShipInvoice(
            actor=REVIEWER, invoice_app_no="KP1", courier="顺丰\r\n", tracking_no="SF1"
        ),
        lambda: Payout(actor=REVIEWER, amount_fen=100, bank_reference="B1\x00"),
    ],
    ids=["reason", "courier", "bank_reference"],
)
def test_build_command_with_line_break_is_refused(build: object) -> None:
    # The workflow decodes every update into these types: a payload that did not come
    # through the API's models is refused there too.
    with pytest.raises(ValidationError, match="不能包含换行或控制字符"):
        build()  # type: ignore[operator]
