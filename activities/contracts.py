"""Names and typed inputs/outputs of the activities: all the workflow knows of them.

Pure data, safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from domain.notices import Notice
from domain.order import OrderState

# Run as local activities: one short database transaction each, answered inside the
# workflow task that asked for it (no extra round trip through the server).
RECORD_PLACEMENT = "record_placement"
SAVE_CHANGE = "save_change"
SEND_EMAIL = "send_email"
# The daily digest's e-mails (workflows/digest.py).
SEND_FINANCE_DIGEST = "send_finance_digest"
SEND_REVIEWER_DIGEST = "send_reviewer_digest"

# ApplicationError types an activity raises that retrying cannot fix.
SERVICE_MARKET_ORDER_TAKEN = "ServiceMarketOrderTaken"
PLACEMENT_KEY_TAKEN = "PlacementKeyTaken"
INVOICE_NUMBER_TAKEN = "InvoiceNumberTaken"
# An e-mail that can never be sent (refused for good, or impossible to build): the workflow
# records it as failed and goes on with the next one.
NOTICE_UNDELIVERABLE = "NoticeUndeliverable"


class AllocateNumbers(BaseModel):
    """Numbers for a new order: its transaction serial and its invoice application numbers."""

    key: str
    placed_at: datetime
    invoice_count: int


class AllocatedNumbers(BaseModel):
    serial_no: str
    invoice_app_nos: list[str]


class NewOrder(BaseModel):
    """A new order to number and record in one transaction."""

    state: OrderState
    invoice_count: int


class Placement(BaseModel):
    """The numbers the new order got; ``written`` is false for a retry that found it there."""

    numbers: AllocatedNumbers
    written: bool


class EmailRequest(BaseModel):
    key: str
    order_no: str | None
    notice: Notice


class DigestDay(BaseModel):
    """The Beijing calendar day a digest is for; its outbox key, so one e-mail a day."""

    day: date


class EmailResult(BaseModel):
    key: str
    sent: bool
    already_sent: bool


class PayoutEntry(BaseModel):
    refund_id: str
    order_no: str
    amount_fen: int
    bank_reference: str
    paid_at: datetime
    confirmed_by: str


def payout_entry(state: OrderState) -> PayoutEntry:
    """The ledger row of the order's refund, just paid out."""
    refund = state.refund
    if refund is None or refund.paid_at is None or not refund.bank_reference or not refund.paid_by:
        raise ValueError(f"order {state.order_no} has no refund paid out")
    return PayoutEntry(
        refund_id=refund.refund_id,
        order_no=state.order_no,
        amount_fen=refund.amount_fen,
        bank_reference=refund.bank_reference,
        paid_at=refund.paid_at,
        confirmed_by=refund.paid_by,
    )


class SaveResult(BaseModel):
    order_no: str
    version: int
    written: bool
