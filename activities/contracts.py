"""Names and typed inputs/outputs of the activities: all the workflow knows of them.

Pure data, safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.notices import Notice

ALLOCATE_NUMBERS = "allocate_numbers"
RECORD_NEW_ORDER = "record_new_order"
SAVE_ORDER = "save_order"
SEND_EMAIL = "send_email"
RECORD_PAYOUT = "record_payout"

# ApplicationError types an activity raises that retrying cannot fix.
SERVICE_MARKET_ORDER_TAKEN = "ServiceMarketOrderTaken"
PLACEMENT_KEY_TAKEN = "PlacementKeyTaken"


class AllocateNumbers(BaseModel):
    """Numbers for a new order: its transaction serial and its invoice application numbers."""

    key: str
    placed_at: datetime
    invoice_count: int


class AllocatedNumbers(BaseModel):
    serial_no: str
    invoice_app_nos: list[str]


class EmailRequest(BaseModel):
    key: str
    order_no: str | None
    notice: Notice


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


class SaveResult(BaseModel):
    order_no: str
    version: int
    written: bool
