"""The lifecycle driven through the HTTP contract: the guide's JD example route by route,
and the refusals on the way (each one changes nothing)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus

from db import models
from tests.support.http_api import (
    PROOF_LIMIT_BYTES,
    Api,
    agreed_refund,
    completed_jd_order,
    ok,
    refund_chosen,
)
from tests.support.jd_example import walk_the_jd_example
from tests.support.samples import CARD_NO, PDF, PROFILE, REFUND_FORM, unique


async def test_jd_example_through_the_http_contract(api: Api) -> None:
    with api.recording() as bodies:
        await walk_the_jd_example(api)
    assert len(bodies) > 30
    assert not [b for b in bodies if CARD_NO.encode() in b]


async def test_payout_writes_one_ledger_row(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    no = await walk_the_jd_example(api)
    async with session_maker() as session:
        rows = list(
            await session.scalars(select(models.Payout).where(models.Payout.order_no == no))
        )
    assert [(r.amount_fen, r.confirmed_by) for r in rows] == [(100_000, "finance")]


async def test_payout_replayed_with_the_same_key_pays_once(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    refund = await agreed_refund(api)
    headers = await api.login("finance") | {"Idempotency-Key": unique("pay-")}
    path = f"/api/finance/refunds/{refund['refund_id']}/payout"
    body = {"amount_fen": refund["amount_fen"], "bank_reference": unique("B")}
    first = await ok(api.http.post(path, json=body, headers=headers))
    second = await ok(api.http.post(path, json=body, headers=headers))
    assert first == second and [e["action"] for e in second["log"]].count("已退款") == 1
    async with session_maker() as session:
        rows = await session.scalars(
            select(models.Payout).where(models.Payout.refund_id == refund["refund_id"])
        )
        assert len(list(rows)) == 1


async def test_payout_without_key_twice_is_409(api: Api) -> None:
    refund = await agreed_refund(api)
    finance = await api.login("finance")
    path = f"/api/finance/refunds/{refund['refund_id']}/payout"
    await ok(
        api.http.post(path, json={"amount_fen": 100_000, "bank_reference": "A1"}, headers=finance)
    )
    again = await api.http.post(
        path, json={"amount_fen": 100_000, "bank_reference": "A1"}, headers=finance
    )
    assert again.status_code == 409
    assert (
        again.json()["detail"]
        == f"退款 {refund['refund_id']} 当前为「已退款」，确认打款需要「同意退款」"
    )


async def test_approve_with_the_same_key_applies_once(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    headers = await api.login("bmp") | {"Idempotency-Key": unique("approve-")}
    path = f"/api/admin/orders/{order['order_no']}/approve"
    first = await ok(api.http.post(path, json={}, headers=headers))
    second = await ok(api.http.post(path, json={}, headers=headers))
    assert first["version"] == second["version"] == 1
    assert [e["action"] for e in second["events"]].count("approve") == 1


async def test_approve_above_the_subtotal_is_422_and_changes_nothing(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    reviewer = await api.login("bmp")
    response = await api.http.post(
        f"/api/admin/orders/{order['order_no']}/approve",
        json={"platform_amount_fen": 200_001},
        headers=reviewer,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "platform_amount_fen",
            "message": "平台实付金额须大于 0 且不超过金额小计 RMB 2000.00",
        }
    ]
    after = await ok(api.http.get(f"/api/orders/{order['order_no']}", headers=reviewer))
    assert (after["status"], after["version"]) == ("submitted", 0)


async def test_return_without_reason_is_422_and_changes_nothing(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    reviewer = await api.login("bmp")
    for body in ({"reason": "   "}, {}):
        response = await api.http.post(
            f"/api/admin/orders/{order['order_no']}/return", json=body, headers=reviewer
        )
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "reason")
    after = await ok(api.http.get(f"/api/orders/{order['order_no']}", headers=reviewer))
    assert after["status"] == "submitted"


async def test_decide_no_refund_invoices_the_refundable_share(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await completed_jd_order(api)
    decided = await ok(
        api.http.post(
            f"/api/orders/{order['order_no']}/refund-decision",
            json={"decision": "no_refund"},
            headers=buyer,
        )
    )
    assert [(i["amount_fen"], i["status"]) for i in decided["invoices"]] == [
        (100_000, "applied"),
        (100_000, "applied"),
    ]
    assert (decided["refund_decision_label"], decided["allowed_actions"]) == ("不退款", [])


async def test_decide_refund_on_a_refund_only_order_needs_no_receipt(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await api.place(buyer, product_code="DY0001")
    no = order["order_no"]
    approved = await ok(
        api.http.post(f"/api/admin/orders/{no}/approve", json={}, headers=await api.login("bmp"))
    )
    assert approved["refundable_fen"] == 200_000
    seen = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
    assert seen["allowed_actions"] == ["decide_refund"]
    receipt = await api.http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer)
    assert receipt.status_code == 409
    decided = await ok(
        api.http.post(
            f"/api/orders/{no}/refund-decision", json={"decision": "refund"}, headers=buyer
        )
    )
    assert (decided["status_label"], decided["allowed_actions"]) == ("交易成功", ["apply_refund"])


async def test_apply_refund_enterprise_needs_no_proof(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await refund_chosen(api)
    form = REFUND_FORM | {"refund_type": "enterprise"}
    refund = await ok(api.http.post(f"/api/orders/{no}/refund", data=form, headers=buyer), 201)
    assert (refund["refund_type"], refund["has_proof"], refund["status"]) == (
        "enterprise",
        False,
        "applied",
    )
    assert refund["refund_id"] == "TK" + no.removeprefix("BS-ZX")


async def test_apply_refund_bad_card_and_missing_field_are_422_per_field(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await refund_chosen(api)
    form = {k: v for k, v in REFUND_FORM.items() if k != "bank"} | {"card_no": "6222-0212"}
    response = await api.http.post(
        f"/api/orders/{no}/refund",
        data=form,
        files={"proof": ("p.png", b"\x89PNG\r\n\x1a\n....", "image/png")},
        headers=buyer,
    )
    assert response.status_code == 422
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {
        "bank": "请填写开户银行",
        "card_no": "银行卡号应为12至19位数字",
    }
    assert (await ok(api.http.get(f"/api/orders/{no}", headers=buyer)))["refund"] is None


async def test_apply_refund_proof_over_the_limit_is_413(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await refund_chosen(api)
    big = PDF + b"0" * PROOF_LIMIT_BYTES
    response = await api.http.post(
        f"/api/orders/{no}/refund",
        data=REFUND_FORM,
        files={"proof": ("big.pdf", big, "application/pdf")},
        headers=buyer,
    )
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert (await ok(api.http.get(f"/api/orders/{no}", headers=buyer)))["refund"] is None


async def test_apply_refund_before_deciding_is_409(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await completed_jd_order(api)
    form = REFUND_FORM | {"refund_type": "enterprise"}
    response = await api.http.post(
        f"/api/orders/{order['order_no']}/refund", data=form, headers=buyer
    )
    assert response.status_code == 409
    assert "需要先选择「退款」" in response.json()["detail"]


async def test_return_invoice_then_buyer_correction_reapplies(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    order = await completed_jd_order(api)
    app_no = order["invoices"][0]["invoice_app_no"]
    returned = await ok(
        api.http.post(
            f"/api/admin/invoices/{app_no}/return", json={"reason": "税号有误"}, headers=reviewer
        )
    )
    assert (returned["status_label"], returned["return_reason"]) == ("打回", "税号有误")
    seen = await ok(api.http.get(f"/api/invoices/{app_no}", headers=buyer))
    assert seen["allowed_actions"] == ["edit_invoice"]
    bad = await api.http.put(f"/api/invoices/{app_no}", json={"taxpayer_id": "123"}, headers=buyer)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "taxpayer_id")
    fixed = await ok(
        api.http.put(
            f"/api/invoices/{app_no}", json={"taxpayer_id": "91310000MA1FL0EX5K"}, headers=buyer
        )
    )
    assert (fixed["status"], fixed["profile"]["taxpayer_id"], fixed["return_reason"]) == (
        "applied",
        "91310000MA1FL0EX5K",
        None,
    )
    assert fixed["profile"]["title"] == PROFILE["title"]


async def test_approve_a_closed_order_is_409(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    no = order["order_no"]
    reviewer = await api.login("bmp")
    await ok(
        api.http.post(f"/api/admin/orders/{no}/void", json={"reason": "重复"}, headers=reviewer)
    )
    handle = api.temporal.get_workflow_handle(no)
    for _ in range(100):  # the run ends once the void e-mail is out
        if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    response = await api.http.post(f"/api/admin/orders/{no}/approve", json={}, headers=reviewer)
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert response.json()["detail"] == f"订单 {no} 当前为「交易失败」，审核通过需要「付款成功」"


async def test_void_replayed_with_the_same_key_after_the_run_ended_answers_the_first_answer(
    api: Api,
) -> None:
    order = await api.place(await api.login("leiliang"))
    no = order["order_no"]
    headers = await api.login("bmp") | {"Idempotency-Key": unique("void-")}
    first = await ok(
        api.http.post(f"/api/admin/orders/{no}/void", json={"reason": "重复"}, headers=headers)
    )
    handle = api.temporal.get_workflow_handle(no)
    for _ in range(100):
        if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    again = await ok(
        api.http.post(f"/api/admin/orders/{no}/void", json={"reason": "重复"}, headers=headers)
    )
    assert again == first
    assert (again["status"], again["void_reason"]) == ("voided", "重复")


async def test_issue_invoice_with_a_number_already_recorded_is_409_and_changes_nothing(
    api: Api,
) -> None:
    reviewer = await api.login("bmp")
    first, second = await completed_jd_order(api), await completed_jd_order(api)
    number = unique("2398")
    issued = await ok(
        api.http.post(
            f"/api/admin/invoices/{first['invoices'][0]['invoice_app_no']}/issue",
            json={"invoice_number": number},
            headers=reviewer,
        )
    )
    assert issued["status"] == "issued"
    app_no = second["invoices"][0]["invoice_app_no"]
    again = await api.http.post(
        f"/api/admin/invoices/{app_no}/issue", json={"invoice_number": number}, headers=reviewer
    )
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert again.json()["detail"] == (
        f"发票号 {number} 已登记在开票申请 {first['invoices'][0]['invoice_app_no']} 上，"
        f"不能再用于开票申请 {app_no}"
    )
    unchanged = await ok(api.http.get(f"/api/invoices/{app_no}", headers=reviewer))
    assert (unchanged["status"], unchanged["invoice_number"]) == ("applied", None)


async def test_issue_invoice_with_the_number_of_the_orders_other_application_is_422(
    api: Api,
) -> None:
    reviewer = await api.login("bmp")
    order = await completed_jd_order(api)
    decided = await ok(
        api.http.post(
            f"/api/orders/{order['order_no']}/refund-decision",
            json={"decision": "no_refund"},
            headers=await api.login("leiliang"),
        )
    )
    first, second = (i["invoice_app_no"] for i in decided["invoices"])
    number = unique("2398")
    await ok(
        api.http.post(
            f"/api/admin/invoices/{first}/issue", json={"invoice_number": number}, headers=reviewer
        )
    )
    again = await api.http.post(
        f"/api/admin/invoices/{second}/issue", json={"invoice_number": number}, headers=reviewer
    )
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"field": "invoice_number", "message": f"发票号 {number} 已登记在开票申请 {first} 上"}
    ]
