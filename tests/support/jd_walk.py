"""The guide's JD order (开票/退款) over HTTP, one function per state change: place, approve,
confirm receipt, refund decision, refund application, settlement, agree, payout, invoice
issue, invoice ship.

How a request is sent is the caller's ``Send``: the tests send it once and check the
status, the reliability driver retries it with an Idempotency-Key, the bench times it.
Each step names itself (the keys of ``JD_PATH``) and the user who takes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.support.samples import BUYER, FINANCE, PDF, REFUND_FORM, REVIEWER

# step -> route template, in the order the lifecycle takes them.
JD_PATH: dict[str, str] = {
    "place": "POST /api/orders",
    "approve": "POST /api/admin/orders/{order_no}/approve",
    "confirm_receipt": "POST /api/orders/{order_no}/confirm-receipt",
    "refund_decision": "POST /api/orders/{order_no}/refund-decision",
    "refund_apply": "POST /api/orders/{order_no}/refund",
    "settlement": "POST /api/admin/orders/{order_no}/settlement",
    "agree": "POST /api/admin/refunds/{refund_id}/agree",
    "payout": "POST /api/finance/refunds/{refund_id}/payout",
    "invoice_issue": "POST /api/admin/invoices/{invoice_app_no}/issue",
    "invoice_ship": "POST /api/admin/invoices/{invoice_app_no}/ship",
}


@dataclass(frozen=True)
class Request:
    """One step of the walk: who sends what, and the status its answer must have."""

    step: str
    username: str
    method: str
    path: str
    expect: int = 200
    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None

    def content(self) -> dict[str, Any]:
        """The body as httpx's keyword arguments (json, data, files), those given only."""
        given = {"json": self.json, "data": self.data, "files": self.files}
        return {name: value for name, value in given.items() if value is not None}


# Sends a request and answers its JSON (an answer other than ``expect`` is an error).
Send = Callable[[Request], Awaitable[dict[str, Any]]]


async def place(send: Send, body: dict[str, Any]) -> dict[str, Any]:
    return await send(Request("place", BUYER.username, "POST", "/api/orders", 201, json=body))


async def approve(send: Send, order_no: str, **body: Any) -> dict[str, Any]:
    path = f"/api/admin/orders/{order_no}/approve"
    return await send(Request("approve", REVIEWER.username, "POST", path, json=body))


async def confirm_receipt(send: Send, order_no: str) -> dict[str, Any]:
    path = f"/api/orders/{order_no}/confirm-receipt"
    return await send(Request("confirm_receipt", BUYER.username, "POST", path))


async def decide_refund(send: Send, order_no: str, decision: str = "refund") -> dict[str, Any]:
    path = f"/api/orders/{order_no}/refund-decision"
    return await send(
        Request("refund_decision", BUYER.username, "POST", path, json={"decision": decision})
    )


async def apply_refund(
    send: Send, order_no: str, form: dict[str, str] = REFUND_FORM, proof_name: str = "证明.pdf"
) -> dict[str, Any]:
    """An individual refund needs a proof; an enterprise refund is sent without one."""
    proof = {"proof": (proof_name, PDF, "application/pdf")}
    files = None if form["refund_type"] == "enterprise" else proof
    path = f"/api/orders/{order_no}/refund"
    return await send(
        Request("refund_apply", BUYER.username, "POST", path, 201, data=form, files=files)
    )


async def record_settlement(send: Send, order_no: str) -> dict[str, Any]:
    path = f"/api/admin/orders/{order_no}/settlement"
    return await send(Request("settlement", REVIEWER.username, "POST", path, json={}))


async def agree_refund(send: Send, refund_id: str) -> dict[str, Any]:
    path = f"/api/admin/refunds/{refund_id}/agree"
    return await send(Request("agree", REVIEWER.username, "POST", path, json={}))


async def pay_out(
    send: Send, refund_id: str, amount_fen: int, bank_reference: str
) -> dict[str, Any]:
    path = f"/api/finance/refunds/{refund_id}/payout"
    body = {"amount_fen": amount_fen, "bank_reference": bank_reference}
    return await send(Request("payout", FINANCE.username, "POST", path, json=body))


async def issue_invoice(send: Send, invoice_app_no: str, invoice_number: str) -> dict[str, Any]:
    path = f"/api/admin/invoices/{invoice_app_no}/issue"
    body = {"invoice_number": invoice_number}
    return await send(Request("invoice_issue", REVIEWER.username, "POST", path, json=body))


async def ship_invoice(
    send: Send, invoice_app_no: str, tracking_no: str = "123123123"
) -> dict[str, Any]:
    path = f"/api/admin/invoices/{invoice_app_no}/ship"
    body = {"courier": "中通", "tracking_no": tracking_no}
    return await send(Request("invoice_ship", REVIEWER.username, "POST", path, json=body))


def applied_invoices(order: dict[str, Any]) -> list[str]:
    """The numbers of the order's invoice applications waiting to be issued."""
    return [i["invoice_app_no"] for i in order["invoices"] if i["status"] == "applied"]


async def refund_chosen(send: Send, order_no: str, **approval: Any) -> dict[str, Any]:
    """A placed order approved, its receipt confirmed and 退款 chosen: the order."""
    await approve(send, order_no, **approval)
    await confirm_receipt(send, order_no)
    return await decide_refund(send, order_no)


async def refund_agreed(
    send: Send, order_no: str, form: dict[str, str] = REFUND_FORM
) -> dict[str, Any]:
    """A placed order taken on until the back office agreed to its refund (settlement
    recorded): the refund."""
    await refund_chosen(send, order_no)
    refund = await apply_refund(send, order_no, form)
    await record_settlement(send, order_no)
    return await agree_refund(send, refund["refund_id"])


async def walk_jd_refund(send: Send, body: dict[str, Any], tag: str) -> dict[str, Any]:
    """The guide's JD example from placement to the shipped invoice (RMB 2000: invoice
    1000, refund 1000); ``tag`` makes the bank reference and invoice number unique."""
    order_no = (await place(send, body))["order_no"]
    order = await refund_chosen(send, order_no, platform_amount_fen=200_000)
    [invoice_app_no] = applied_invoices(order)
    refund = await apply_refund(send, order_no)
    await record_settlement(send, order_no)
    agreed = await agree_refund(send, refund["refund_id"])
    await pay_out(send, refund["refund_id"], agreed["amount_fen"], f"ICBC{tag}")
    await issue_invoice(send, invoice_app_no, f"INV{tag}")
    return await ship_invoice(send, invoice_app_no, tag[:20])
