"""The guide's JD example (RMB 2000: invoice 1000, refund 1000) over HTTP, route by route,
with the refusals on the way and what each party may do at each step, every answer checked.
The API tests walk it in-process, the e2e tests against the real processes."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from tests.support.http_api import Api, ok
from tests.support.samples import CARD_NO, PDF, REFUND_FORM, unique

LEDGER_HEADERS = ["退款编号", "主订单号", "退款金额(元)", "银行流水号", "打款时间", "确认人"]


async def walk_the_jd_example(api: Api) -> str:
    """The guide's JD example (RMB 2000: invoice 1000, refund 1000), route by route, with
    the refusals on the way and what each party may do at each step; returns the order
    number."""
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
    # The guide's number, made unique per application: a 发票号 is recorded once only.
    invoice_number = "239848792834" + app_no[-8:]
    issued = await ok(
        http.post(
            f"/api/admin/invoices/{app_no}/issue",
            json={"invoice_number": invoice_number},
            headers=reviewer,
        )
    )
    assert (issued["status_label"], issued["invoice_number"]) == ("已开票", invoice_number)
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
