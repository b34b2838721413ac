"""Fields nobody may set through the API (status, amounts, owner), and text that must never
reach the database (NUL and other control characters)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from tests.reliability.report import Section
from tests.support.http_api import Api, completed_jd_order, ok
from tests.support.samples import PROFILE, REFUND_FORM, order_body

# What a buyer might try to slip into a placement: the order's own facts.
FORGED_ORDER = {
    "status": "completed",
    "buyer": "zhangsan",
    "order_no": "BS-ZX202210181408314977",
    "standard_fen": 1,
    "subtotal_fen": 1,
    "discount_fen": 199_999,
    "paid_here_fen": 0,
    "platform_amount_fen": 1,
    "refundable_fen": 200_000,
    "refund_decision": "refund",
    "modules": [{"code": "ERP", "name": "百胜电商ERP", "price_fen": 1}],
    "allowed_actions": ["payout"],
}


def _fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def test_fields_a_buyer_may_not_set_are_refused(
    api: Api, session_maker: async_sessionmaker[AsyncSession], report: Section
) -> None:
    """Mass assignment

    Status, amounts, owner, order number and the like sent with a placement, an edit, an
    invoice correction, a refund application, a profile or a staff action are refused with
    422 naming each of them, and change nothing; a buyer's list ignores a buyer filter.
    """
    buyer = await api.login("leiliang")
    reviewer = await api.login("bmp")
    finance = await api.login("finance")
    profile_id = await api.profile(buyer)
    body = order_body(profile_id)
    placed = await api.http.post("/api/orders", json=body | FORGED_ORDER, headers=buyer)
    async with session_maker() as session:
        forged_orders = await session.scalar(
            select(func.count()).where(
                models.Order.service_market_order_no == body["service_market_order_no"]
            )
        )

    order = await completed_jd_order(api)
    no = order["order_no"]
    invoice = order["invoices"][0]["invoice_app_no"]
    attempts = {
        "PUT /api/orders/{no}": await api.http.put(
            f"/api/orders/{no}",
            json={"shop_name": "新店", "status": "submitted", "buyer": "zhangsan"},
            headers=buyer,
        ),
        "PUT /api/invoices/{no}": await api.http.put(
            f"/api/invoices/{invoice}",
            json={"title": "别的抬头", "amount_fen": 1, "status": "shipped", "invoice_number": "X"},
            headers=buyer,
        ),
        "POST /api/orders/{no}/refund-decision": await api.http.post(
            f"/api/orders/{no}/refund-decision",
            json={"decision": "refund", "refundable_fen": 200_000},
            headers=buyer,
        ),
        "POST /api/invoice-profiles": await api.http.post(
            "/api/invoice-profiles", json=PROFILE | {"owner": "zhangsan", "id": 1}, headers=buyer
        ),
        "POST /api/admin/orders/{no}/approve": await api.http.post(
            f"/api/admin/orders/{no}/approve", json={"status": "completed"}, headers=reviewer
        ),
    }
    await ok(
        api.http.post(
            f"/api/orders/{no}/refund-decision", json={"decision": "refund"}, headers=buyer
        )
    )
    refund_form = await api.http.post(
        f"/api/orders/{no}/refund",
        data=REFUND_FORM | {"amount_fen": "1", "status": "agreed", "refund_type": "enterprise"},
        headers=buyer,
    )
    after_form = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
    payout_probe = await api.http.post(
        "/api/finance/refunds/TK202210181408314977/payout",
        json={"amount_fen": 1, "bank_reference": "B", "confirmed_by": "someone"},
        headers=finance,
    )
    attempts["POST /api/finance/refunds/{id}/payout"] = payout_probe
    other_page = await ok(api.http.get("/api/orders", params={"buyer": "zhangsan"}, headers=buyer))
    after = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))

    report.try_(
        f"a placement carrying {len(FORGED_ORDER)} fields of the order itself ({', '.join(FORGED_ORDER)})"
    )
    report.try_(
        "status, owner, amounts or numbers added to an edit, an invoice correction, a refund "
        "decision, an invoice profile, a refund application form, an approval and a payout; "
        "?buyer= on a buyer's list"
    )
    report.count("requests with forged fields", len(attempts) + 3)
    assert placed.status_code == 422 and _fields(placed) == set(FORGED_ORDER), placed.text
    assert forged_orders == 0
    report.hold(
        "the placement was refused with 422 naming every forged field, and no order was made"
    )
    wrong = {
        name: (r.status_code, sorted(_fields(r)))
        for name, r in attempts.items()
        if r.status_code != 422 or not _fields(r)
    }
    assert wrong == {}, wrong
    # One change happened in between: the legitimate refund decision.
    assert (
        after["version"],
        after["shop_name"],
        after["buyer"],
        after["invoices"][0]["profile"],
    ) == (
        order["version"] + 1,
        order["shop_name"],
        "leiliang",
        order["invoices"][0]["profile"],
    )
    report.hold(
        "every other request with a forged field was refused with 422 naming it; nothing changed"
    )
    assert refund_form.status_code == 422 and _fields(refund_form) == {"amount_fen", "status"}
    assert after_form["refund"] is None
    report.hold(
        "the multipart refund form with amount_fen and status added was refused the same way"
    )
    assert all(o["buyer"] == "leiliang" for o in other_page["items"])
    report.hold("?buyer=zhangsan on leiliang's list is ignored: only leiliang's orders")


async def test_control_characters_are_refused_before_anything_is_stored(
    api: Api, session_maker: async_sessionmaker[AsyncSession], report: Section
) -> None:
    """NUL and control characters in input

    PostgreSQL cannot store a NUL. A NUL in a path, a query, a form or a JSON field, or
    another control character in text, is refused with 422 before anything is stored, so
    it can neither fail a query (500) nor stop a workflow's write from ever succeeding.
    """
    buyer = await api.login("leiliang")
    profile_id = await api.profile(buyer)
    placements = {
        "NUL in shop_name": order_body(profile_id, shop_name="店\x00名"),
        "NUL in service_market_order_no": order_body(profile_id, service_market_order_no="SM\x00"),
        "bell in reminder_name": order_body(profile_id, reminder_name="李\x07雷"),
        "escape in contract_name": order_body(profile_id, contract_name="\x1b[31m红"),
    }
    answers = {
        name: await api.http.post("/api/orders", json=body, headers=buyer)
        for name, body in placements.items()
    }
    answers["NUL in profile title"] = await api.http.post(
        "/api/invoice-profiles", json=PROFILE | {"title": "公司\x00"}, headers=buyer
    )
    answers["NUL in a path"] = await api.http.get("/api/orders/BS-ZX%00", headers=buyer)
    answers["NUL in a query"] = await api.http.get(
        "/api/orders", params={"shop_name": "店\x00"}, headers=buyer
    )
    answers["NUL in the sign-in form"] = await api.http.post(
        "/api/auth/token", data={"username": "leiliang\x00", "password": "demo"}
    )
    async with session_maker() as session:
        stored = await session.scalar(
            select(func.count()).where(
                models.Order.service_market_order_no.in_(
                    # (PostgreSQL cannot even be asked about the one with a NUL.)
                    [
                        b["service_market_order_no"]
                        for b in placements.values()
                        if "\x00" not in b["service_market_order_no"]
                    ]
                )
            )
        )
    fine = await api.http.post(
        "/api/orders", json=order_body(profile_id, shop_name="店名 (旗舰)·一店"), headers=buyer
    )

    report.try_(f"{len(answers)} requests: {', '.join(answers)}")
    for name, response in answers.items():
        report.count(name, response.status_code)
    assert all(
        r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        for r in answers.values()
    ), {n: (r.status_code, r.text[:200]) for n, r in answers.items()}
    assert stored == 0
    report.hold(
        "each was refused with 422 problem+json naming where the character was; no order was made"
    )
    assert fine.status_code == 201
    report.hold(
        "a name with spaces and punctuation is still accepted (a tab is not: one-line text)"
    )
