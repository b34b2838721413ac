"""The lifecycle driven through the HTTP contract: the guide's JD example route by route,
and the refusals on the way (each one changes nothing)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus

from db import models
from tests.api_harness import (
    CARD_NO,
    PDF,
    PROFILE,
    PROOF_LIMIT_BYTES,
    REFUND_FORM,
    Api,
    completed_jd_order,
    ok,
    refund_applied,
    refund_chosen,
    unique,
)

LEDGER_HEADERS = ["退款编号", "主订单号", "退款金额(元)", "银行流水号", "打款时间", "确认人"]


async def test_jd_example_through_the_http_contract(api: Api) -> None:
    with api.recording() as bodies:
        await walk_the_jd_example(api)
    assert len(bodies) > 30
    assert not [b for b in bodies if CARD_NO.encode() in b]


async def walk_the_jd_example(api: Api) -> str:
    """The guide's JD example (RMB 2000: invoice 1000, refund 1000), route by route, with
    the refusals on the way and what each party may do at each step; returns the order
    number. Runs against the in-process API and, in the e2e tests, the real processes."""
    buyer = await api.login("leiliang")
    reviewer, finance = await api.login("bmp"), await api.login("finance")
    http = api.http

    async def allowed(headers: dict[str, str]) -> list[str]:
        return list((await ok(http.get(f"/api/orders/{no}", headers=headers)))["allowed_actions"])

    order = await api.place(buyer, shop_name=unique("快乐京东店"))
    no = order["order_no"]
    assert (await allowed(buyer), await allowed(reviewer)) == ([], ["approve", "return", "void"])

    returned = await ok(
        http.post(
            f"/api/admin/orders/{no}/return", json={"reason": "店铺名称有误"}, headers=reviewer
        )
    )
    assert (returned["status_label"], returned["return_reason"]) == ("打回", "店铺名称有误")
    assert (await allowed(buyer), await allowed(reviewer)) == (["edit"], ["void"])
    refused = await http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer)
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")
    assert refused.json()["detail"] == f"订单 {no} 当前为「打回」，确认收货需要「已审核」"
    edited = await ok(
        http.put(f"/api/orders/{no}", json={"shop_name": "快乐京东店"}, headers=buyer)
    )
    assert (edited["status"], edited["shop_name"], edited["return_reason"]) == (
        "submitted",
        "快乐京东店",
        None,
    )
    again = await http.put(f"/api/orders/{no}", json={"shop_name": "又改"}, headers=buyer)
    assert again.status_code == 409

    approved = await ok(
        http.post(
            f"/api/admin/orders/{no}/approve",
            json={"platform_amount_fen": 200_000},
            headers=reviewer,
        )
    )
    assert (approved["status_label"], approved["platform_amount_fen"]) == ("已审核", 200_000)
    assert approved["allowed_actions"] == ["void", "record_settlement"]
    assert await allowed(buyer) == ["confirm_receipt"]
    confirmed = await ok(http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer))
    assert confirmed["status_label"] == "交易成功"
    assert [(i["amount_fen"], i["status"], i["status_label"]) for i in confirmed["invoices"]] == [
        (100_000, "applied", "已申请"),
        (100_000, "pending", "未申请"),
    ]
    assert confirmed["allowed_actions"] == ["decide_refund"]

    decided = await ok(
        http.post(f"/api/orders/{no}/refund-decision", json={"decision": "refund"}, headers=buyer)
    )
    assert (decided["refund_decision"], decided["refund_decision_label"]) == ("refund", "退款")
    assert decided["allowed_actions"] == ["apply_refund"]
    second = await http.post(
        f"/api/orders/{no}/refund-decision", json={"decision": "no_refund"}, headers=buyer
    )
    assert second.status_code == 409 and "一旦选择不能更换" in second.json()["detail"]

    without_proof = await http.post(f"/api/orders/{no}/refund", data=REFUND_FORM, headers=buyer)
    assert without_proof.status_code == 422
    assert without_proof.json()["errors"][0]["field"] == "proof"
    fake_pdf = {"proof": ("证明.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}
    not_pdf = await http.post(
        f"/api/orders/{no}/refund", data=REFUND_FORM, files=fake_pdf, headers=buyer
    )
    assert (not_pdf.status_code, not_pdf.json()["errors"][0]["field"]) == (422, "proof")
    proof = {"proof": ("../../证明.pdf", PDF, "application/pdf")}
    refund = await ok(
        http.post(f"/api/orders/{no}/refund", data=REFUND_FORM, files=proof, headers=buyer), 201
    )
    refund_id = refund["refund_id"]
    assert (refund["amount_fen"], refund["status_label"], refund["refund_type_label"]) == (
        100_000,
        "退款申请",
        "个人",
    )
    assert (refund["card_no_masked"], refund["has_proof"], refund["settled"]) == (
        "6222 **** **** 1234",
        True,
        False,
    )
    download = await http.get(f"/api/refunds/{refund_id}/proof", headers=reviewer)
    assert (download.status_code, download.content) == (200, PDF)
    assert download.headers["content-type"] == "application/pdf"
    assert (
        download.headers["content-disposition"]
        == f"attachment; filename*=utf-8''{quote('证明.pdf')}"
    )
    stranger = await http.get(
        f"/api/refunds/{refund_id}/proof", headers=await api.login("zhangsan")
    )
    assert stranger.status_code == 404

    early = await http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer)
    assert early.status_code == 409 and "待平台与百胜结算后" in early.json()["detail"]
    assert "agree_refund" not in await allowed(reviewer)
    settled = await ok(
        http.post(
            f"/api/admin/orders/{no}/settlement", json={"note": "平台已结算"}, headers=reviewer
        )
    )
    assert settled["settled"] is True and settled["refund"]["settled"] is True
    assert settled["allowed_actions"] == [
        "agree_refund",
        "return_refund",
        "issue_invoice",
        "return_invoice",
    ]
    back = await ok(
        http.post(
            f"/api/admin/refunds/{refund_id}/return", json={"reason": "支行有误"}, headers=reviewer
        )
    )
    assert (back["status_label"], back["return_reason"]) == ("退款修改", "支行有误")
    assert await allowed(buyer) == ["edit_refund"]
    fixed = await ok(
        http.put(
            f"/api/orders/{no}/refund", data=REFUND_FORM | {"branch": "上海浦东支行"}, headers=buyer
        )
    )
    assert (fixed["status"], fixed["branch"], fixed["has_proof"]) == (
        "applied",
        "上海浦东支行",
        True,
    )
    agreed = await ok(http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer))
    assert agreed["status_label"] == "同意退款"
    assert await allowed(finance) == ["payout"]

    waiting = await ok(http.get("/api/finance/refunds", params={"page_size": 100}, headers=finance))
    assert refund_id in [r["refund_id"] for r in waiting["items"]]
    wrong = await http.post(
        f"/api/finance/refunds/{refund_id}/payout",
        json={"amount_fen": 99_999, "bank_reference": "ICBC1"},
        headers=finance,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "amount_fen"
    reference = unique("ICBC")
    paid = await ok(
        http.post(
            f"/api/finance/refunds/{refund_id}/payout",
            json={"amount_fen": 100_000, "bank_reference": reference},
            headers=finance,
        )
    )
    assert (paid["status_label"], paid["bank_reference"], paid["allowed_actions"]) == (
        "已退款",
        reference,
        [],
    )
    log = (await ok(http.get(f"/api/refunds/{refund_id}", headers=buyer)))["log"]
    assert [
        (e["seq"], e["operator"], e["action"], e["amount_fen"], e["status_label"]) for e in log
    ] == [
        (1, "快乐贸易有限公司", "申请退款!", 100_000, "退款申请"),
        (2, "bmp后台操作", "退款修改 支行有误", 100_000, "退款修改"),
        (3, "快乐贸易有限公司", "申请退款!", 100_000, "退款申请"),
        (4, "bmp后台操作", "同意退款", 100_000, "同意退款"),
        (5, "bmp后台操作", "已退款", 100_000, "已退款"),
    ]

    ledger = await ok(http.get("/api/finance/payouts", params={"page_size": 100}, headers=finance))
    row = next(r for r in ledger["items"] if r["refund_id"] == refund_id)
    assert (row["order_no"], row["amount_fen"], row["bank_reference"], row["confirmed_by"]) == (
        no,
        100_000,
        reference,
        "finance",
    )
    assert row["paid_at"].endswith("+08:00")
    export = await http.get("/api/finance/payouts", params={"format": "csv"}, headers=finance)
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0] == LEDGER_HEADERS
    assert [refund_id, no, "1000.00", reference, "finance"] in [r[:4] + r[5:] for r in rows[1:]]

    invoices = (await ok(http.get(f"/api/orders/{no}", headers=buyer)))["invoices"]
    assert [i["status"] for i in invoices] == ["applied", "cancelled"]
    app_no = invoices[0]["invoice_app_no"]
    issued = await ok(
        http.post(
            f"/api/admin/invoices/{app_no}/issue",
            json={"invoice_number": "2398487928347283974234"},
            headers=reviewer,
        )
    )
    assert (issued["status_label"], issued["invoice_number"]) == (
        "已开票",
        "2398487928347283974234",
    )
    assert issued["allowed_actions"] == ["ship_invoice"]
    late_edit = await http.put(f"/api/invoices/{app_no}", json={"title": "改名"}, headers=buyer)
    assert late_edit.status_code == 409
    assert "发票开出后不能再修改" in late_edit.json()["detail"]
    shipped = await ok(
        http.post(
            f"/api/admin/invoices/{app_no}/ship",
            json={"courier": "中通", "tracking_no": "123123123"},
            headers=reviewer,
        )
    )
    assert (shipped["status_label"], shipped["courier"], shipped["tracking_no"]) == (
        "已寄送",
        "中通",
        "123123123",
    )
    final = await ok(http.get(f"/api/orders/{no}", headers=buyer))
    assert [i["status_label"] for i in final["invoices"]] == ["已寄送", "已取消"]
    assert (final["allowed_actions"], final["refund"]["status"]) == ([], "refunded")
    assert CARD_NO not in str(final) and CARD_NO not in str(ledger)
    return str(no)


async def test_payout_writes_one_ledger_row(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    no = await walk_the_jd_example(api)
    async with session_maker() as session:
        rows = list(
            await session.scalars(select(models.Payout).where(models.Payout.order_no == no))
        )
    assert [(r.amount_fen, r.confirmed_by) for r in rows] == [(100_000, "finance")]


async def _agreed_refund(api: Api) -> dict[str, Any]:
    order = await refund_applied(api, await api.login("leiliang"))
    reviewer = await api.login("bmp")
    no, refund_id = order["order_no"], order["refund"]["refund_id"]
    await ok(api.http.post(f"/api/admin/orders/{no}/settlement", json={}, headers=reviewer))
    return await ok(
        api.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer)
    )


async def test_payout_replayed_with_the_same_key_pays_once(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    refund = await _agreed_refund(api)
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
    refund = await _agreed_refund(api)
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


async def test_decide_no_refund_invoices_the_refundable_share(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await completed_jd_order(api, buyer)
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
    no = await refund_chosen(api, buyer)
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
    no = await refund_chosen(api, buyer)
    form = {k: v for k, v in REFUND_FORM.items() if k != "bank"} | {"card_no": "6222-0212"}
    response = await api.http.post(
        f"/api/orders/{no}/refund",
        data=form,
        files={"proof": ("p.png", b"\x89PNG\r\n\x1a\n....", "image/png")},
        headers=buyer,
    )
    assert response.status_code == 422
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {
        "bank": "Field required",
        "card_no": "银行卡号应为12至19位数字",
    }
    assert (await ok(api.http.get(f"/api/orders/{no}", headers=buyer)))["refund"] is None


async def test_apply_refund_proof_over_the_limit_is_413(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await refund_chosen(api, buyer)
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
    order = await completed_jd_order(api, buyer)
    form = REFUND_FORM | {"refund_type": "enterprise"}
    response = await api.http.post(
        f"/api/orders/{order['order_no']}/refund", data=form, headers=buyer
    )
    assert response.status_code == 409
    assert "需要先选择「退款」" in response.json()["detail"]


async def test_return_invoice_then_buyer_correction_reapplies(api: Api) -> None:
    buyer, reviewer = await api.login("leiliang"), await api.login("bmp")
    order = await completed_jd_order(api, buyer)
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
