"""Driving a refund with a card number of its own, for the card number tests."""

from __future__ import annotations

import uuid

from tests.support.http_api import Api, ok, refund_chosen
from tests.support.samples import PDF, REFUND_FORM


def distinctive_card() -> str:
    """A 19-digit number no other test uses, so finding it anywhere means it leaked."""
    return f"6217{uuid.uuid4().int % 10**15:015d}"


def middle_of(card_no: str) -> str:
    """The digits the masked form hides: they must never be anywhere a buyer can read."""
    return card_no[4:-4]


async def applied_refund(api: Api, card_no: str) -> tuple[str, str]:
    """(order number, refund id) of a JD order whose buyer filed a refund paid to ``card_no``,
    the platform's settlement recorded (so the refund can be reviewed)."""
    buyer = await api.login("leiliang")
    order_no = await refund_chosen(api)
    refund = await ok(
        api.http.post(
            f"/api/orders/{order_no}/refund",
            data=REFUND_FORM | {"card_no": card_no},
            files={"proof": ("证明.pdf", PDF, "application/pdf")},
            headers=buyer,
        ),
        201,
    )
    reviewer = await api.login("bmp")
    await ok(api.http.post(f"/api/admin/orders/{order_no}/settlement", json={}, headers=reviewer))
    return order_no, str(refund["refund_id"])


async def agreed_refund(api: Api, card_no: str) -> tuple[str, str]:
    """(order number, refund id) of a refund to ``card_no`` agreed and waiting for payout."""
    order_no, refund_id = await applied_refund(api, card_no)
    reviewer = await api.login("bmp")
    agreed = await ok(
        api.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer)
    )
    assert agreed["status"] == "agreed"
    return order_no, refund_id
