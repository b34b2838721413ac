"""The guide's JD example driven through every route of the lifecycle."""

from __future__ import annotations

import csv
import io

from tests.api_harness import Api

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REFUND_FORM = {
    "refund_type": "individual",
    "account_name": "快乐贸易有限公司",
    "bank": "中国工商银行",
    "branch": "上海陆家嘴支行",
    "card_no": "6222021234567891234",
    "region": "上海市",
}


async def test_jd_example_through_the_http_contract(api: Api) -> None:
    await walk_the_jd_example(api)


async def walk_the_jd_example(api: Api) -> str:
    """The guide's JD example, route by route, with every refusal on the way; returns the order number."""
    buyer, reviewer, finance = await api.login("leiliang"), await api.login("bmp"), await api.login("finance")
    order = await api.place(buyer)
    no = order["order_no"]
    assert "approve" in (await api.http.get(f"/api/orders/{no}", headers=reviewer)).json()["allowed_actions"]

    returned = await api.http.post(f"/api/admin/orders/{no}/return", json={"reason": "店铺名称有误"}, headers=reviewer)
    assert (returned.json()["status_label"], returned.json()["return_reason"]) == ("打回", "店铺名称有误")
    refused = await api.http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer)
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"order {no} is 打回; 确认收货 needs 已审核"
    edited = await api.http.put(f"/api/orders/{no}", json={"shop_name": "快乐京东店"}, headers=buyer)
    assert (edited.json()["status"], edited.json()["shop_name"]) == ("submitted", "快乐京东店")

    approved = await api.http.post(f"/api/admin/orders/{no}/approve", json={}, headers=reviewer)
    assert approved.json()["status_label"] == "已审核"
    confirmed = (await api.http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer)).json()
    assert [(i["amount_fen"], i["status_label"]) for i in confirmed["invoices"]] == [(100_000, "已申请"), (100_000, "未申请")]
    assert confirmed["allowed_actions"] == ["decide_refund"]

    decided = (await api.http.post(f"/api/orders/{no}/refund-decision", json={"decision": "refund"}, headers=buyer)).json()
    assert decided["allowed_actions"] == ["apply_refund"]
    second = await api.http.post(f"/api/orders/{no}/refund-decision", json={"decision": "no_refund"}, headers=buyer)
    assert second.status_code == 409

    no_proof = await api.http.post(f"/api/orders/{no}/refund", data=REFUND_FORM, headers=buyer)
    assert no_proof.status_code == 422
    not_pdf = await api.http.post(f"/api/orders/{no}/refund", data=REFUND_FORM, files={"proof": ("证明.pdf", b"MZ not a pdf", "application/pdf")}, headers=buyer)
    assert not_pdf.status_code == 422
    refund = await api.http.post(f"/api/orders/{no}/refund", data=REFUND_FORM, files={"proof": ("../../证明.pdf", PDF, "application/pdf")}, headers=buyer)
    assert refund.status_code == 201, refund.text
    refund_id = refund.json()["refund_id"]
    assert (refund.json()["amount_fen"], refund.json()["card_no_masked"], refund.json()["has_proof"]) == (100_000, "6222 **** **** 1234", True)
    proof = await api.http.get(f"/api/refunds/{refund_id}/proof", headers=reviewer)
    assert proof.content == PDF
    assert (await api.http.get(f"/api/refunds/{refund_id}/proof", headers=await api.login("zhangsan"))).status_code == 404

    early = await api.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer)
    assert early.status_code == 409 and "settle" in early.json()["detail"]
    await api.http.post(f"/api/admin/orders/{no}/settlement", json={"note": "平台已结算"}, headers=reviewer)
    back = await api.http.post(f"/api/admin/refunds/{refund_id}/return", json={"reason": "支行有误"}, headers=reviewer)
    assert back.json()["status_label"] == "退款修改"
    fixed = await api.http.put(f"/api/orders/{no}/refund", data=REFUND_FORM | {"branch": "上海浦东支行"}, headers=buyer)
    assert (fixed.status_code, fixed.json()["status"], fixed.json()["branch"]) == (200, "applied", "上海浦东支行")
    agreed = await api.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer)
    assert agreed.json()["status_label"] == "同意退款"

    waiting = (await api.http.get("/api/finance/refunds", headers=finance)).json()
    assert refund_id in [r["refund_id"] for r in waiting["items"]]
    wrong = await api.http.post(f"/api/finance/refunds/{refund_id}/payout", json={"amount_fen": 99_999, "bank_reference": "ICBC1"}, headers=finance)
    assert wrong.status_code == 422
    paid = await api.http.post(f"/api/finance/refunds/{refund_id}/payout", json={"amount_fen": 100_000, "bank_reference": "ICBC1"}, headers=finance)
    assert paid.json()["status_label"] == "已退款"
    log = (await api.http.get(f"/api/refunds/{refund_id}", headers=buyer)).json()["log"]
    assert [(e["operator"], e["action"], e["status_label"]) for e in log] == [
        ("快乐贸易有限公司", "申请退款!", "退款申请"),
        ("bmp后台操作", "退款修改 支行有误", "退款修改"),
        ("快乐贸易有限公司", "申请退款!", "退款申请"),
        ("bmp后台操作", "同意退款", "同意退款"),
        ("bmp后台操作", "已退款", "已退款"),
    ]

    ledger = await api.http.get("/api/finance/payouts", params={"format": "csv"}, headers=finance)
    rows = list(csv.reader(io.StringIO(ledger.content.decode("utf-8-sig"))))
    assert rows[0] == ["退款编号", "主订单号", "退款金额(元)", "银行流水号", "打款时间", "确认人"]
    assert [refund_id, no, "1000.00", "ICBC1"] in [r[:4] for r in rows[1:]]

    invoices = (await api.http.get(f"/api/orders/{no}", headers=buyer)).json()["invoices"]
    assert [i["status"] for i in invoices] == ["applied", "cancelled"]
    app_no = invoices[0]["invoice_app_no"]
    issued = await api.http.post(f"/api/admin/invoices/{app_no}/issue", json={"invoice_number": "2398487928347283974234"}, headers=reviewer)
    assert issued.json()["status_label"] == "已开票"
    late_edit = await api.http.put(f"/api/invoices/{app_no}", json={"title": "改名"}, headers=buyer)
    assert late_edit.status_code == 409
    shipped = await api.http.post(f"/api/admin/invoices/{app_no}/ship", json={"courier": "中通", "tracking_no": "123123123"}, headers=reviewer)
    assert (shipped.json()["status_label"], shipped.json()["courier"]) == ("已寄送", "中通")

    final = (await api.http.get(f"/api/orders/{no}", headers=buyer)).text
    assert "6222021234567891234" not in final
    assert (await api.http.get(f"/api/refunds/{refund_id}", headers=finance)).text.count("6222021234567891234") == 0
    return str(no)


async def test_reviewer_cannot_pay_out_and_buyer_cannot_approve(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    buyer_try = await api.http.post(f"/api/admin/orders/{order['order_no']}/approve", json={}, headers=await api.login("leiliang"))
    assert buyer_try.status_code == 403
    payout = await api.http.post("/api/finance/refunds/TK000000000000000000/payout", json={"amount_fen": 1, "bank_reference": "x"}, headers=await api.login("bmp"))
    assert payout.status_code == 403


async def test_return_without_reason_is_422_and_changes_nothing(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    reviewer = await api.login("bmp")
    response = await api.http.post(f"/api/admin/orders/{order['order_no']}/return", json={"reason": ""}, headers=reviewer)
    assert response.status_code == 422
    assert (await api.http.get(f"/api/orders/{order['order_no']}", headers=reviewer)).json()["status"] == "submitted"


async def test_same_idempotency_key_approves_once(api: Api) -> None:
    order = await api.place(await api.login("leiliang"))
    headers = await api.login("bmp") | {"Idempotency-Key": "approve-1"}
    first = await api.http.post(f"/api/admin/orders/{order['order_no']}/approve", json={}, headers=headers)
    second = await api.http.post(f"/api/admin/orders/{order['order_no']}/approve", json={}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json()["version"] == second.json()["version"]
    assert [e["action"] for e in second.json()["events"]].count("approve") == 1
