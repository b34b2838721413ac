"""Shapes of what the API reads and answers (API.md). Fields may be added, never renamed.

Money is integer fen in ``*_fen``; each status has a ``*_label`` with its Chinese label;
every time leaves with the Asia/Shanghai offset (+08:00), whatever zone it was held in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import UploadFile
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.calendar import SHANGHAI, shanghai
from domain.inputs import ONE_LINE, Code, RefundAccountInput, StrictInput
from domain.statuses import RefundDecision

T = TypeVar("T")

LocalTime = Annotated[datetime, AfterValidator(shanghai)]


# Times people type (issue date, payout time): anything outside these years is a typo, and
# past them the conversion to UTC for storage overflows.
MIN_YEAR, MAX_YEAR = 1900, 9998


def _aware(moment: datetime) -> datetime:
    """A time typed without a zone means Shanghai time, as the people typing it live there."""
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"年份须在 {MIN_YEAR} 至 {MAX_YEAR} 之间")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


AwareTime = Annotated[datetime, AfterValidator(_aware)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), ONE_LINE
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), ONE_LINE]


# --- answers --------------------------------------------------------------------------


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str


class MeOut(BaseModel):
    username: str
    role: str
    company: str
    contact_name: str
    mobile: str
    email: str
    unread_messages: int


class MessageOut(BaseModel):
    id: int
    at: datetime
    title: str
    body: str
    order_no: str | None
    read: bool


class MessagePageOut(PageOut[MessageOut]):
    unread_count: int


class UnreadCountOut(BaseModel):
    unread_count: int


class HealthOut(BaseModel):
    status: str = Field(description="`ok`, `degraded` (no worker polls) or `unavailable`")
    database: str
    temporal: str
    task_queue: str = Field(
        description="`ok` when a worker polled the orders' task queue lately, `no_pollers` "
        "when none did, `unavailable` when Temporal could not be asked"
    )


class ModuleOut(BaseModel):
    code: str
    name: str
    price_fen: int


class ProductOut(BaseModel):
    code: str
    line: str
    platform: str
    platform_label: str
    name: str
    settlement_mode: str
    settlement_mode_label: str
    refund_share: float
    modules: list[ModuleOut]
    min_price_fen: int
    agreement: str
    notice: str


class ProfileOut(BaseModel):
    """A saved invoice profile (``id``), or an order's snapshot of one (its source's id)."""

    id: int | None
    invoice_type: str
    invoice_type_label: str
    title: str
    taxpayer_id: str
    recipient_name: str
    recipient_mobile: str
    recipient_address: str


class ConsigneeOut(BaseModel):
    """收货人信息 of an order: a snapshot (``address_id`` names the address it came from)."""

    address_id: int | None
    name: str
    mobile: str
    phone: str | None
    postcode: str
    address: str


class AddressOut(BaseModel):
    """A saved 收货地址."""

    id: int
    name: str
    mobile: str
    phone: str | None
    postcode: str
    address: str
    is_default: bool
    created_at: LocalTime


class ProductRef(BaseModel):
    code: str
    name: str
    line: str
    platform: str
    platform_label: str
    settlement_mode: str
    settlement_mode_label: str


class TransactionOut(BaseModel):
    """交易流水."""

    serial_no: str
    product_code: str
    payment_method: str
    standard_fen: int
    paid_here_fen: int
    discount_fen: int
    subtotal_fen: int


class InvoiceOut(BaseModel):
    invoice_app_no: str
    order_no: str
    buyer: str
    shop_name: str
    serial_no: str  # 交易流水号 of the order
    amount_fen: int
    status: str
    status_label: str
    automatic: bool
    created_at: LocalTime
    invoice_number: str | None
    issued_at: LocalTime | None
    courier: str | None
    tracking_no: str | None
    shipped_at: LocalTime | None
    return_reason: str | None
    profile: ProfileOut
    allowed_actions: list[str]
    # Past its queue's time limit (超时); staff only, always false for the buyer.
    overdue: bool = False


class RefundLogOut(BaseModel):
    seq: int
    at: LocalTime
    operator: str
    action: str
    amount_fen: int
    status: str
    status_label: str


class RefundOut(BaseModel):
    refund_id: str
    order_no: str
    applicant: str
    shop_name: str
    service_market_order_no: str
    platform: str
    platform_label: str
    product_name: str
    amount_fen: int
    status: str
    status_label: str
    refund_type: str | None
    refund_type_label: str | None
    account_name: str
    bank: str
    branch: str
    card_no_masked: str
    region: str
    has_proof: bool
    return_reason: str | None
    settled: bool
    applied_at: LocalTime | None
    agreed_at: LocalTime | None
    paid_at: LocalTime | None
    bank_reference: str | None
    log: list[RefundLogOut]
    allowed_actions: list[str]
    # Past its queue's time limit (超时); staff only, always false for the buyer.
    overdue: bool = False


class EventOut(BaseModel):
    at: LocalTime
    actor: str
    action: str
    action_label: str
    detail: str


class OrderOut(BaseModel):
    order_no: str
    status: str
    status_label: str
    buyer: str
    buyer_company: str
    product: ProductRef
    modules: list[ModuleOut]
    standard_fen: int
    discount_fen: int
    subtotal_fen: int
    paid_here_fen: int
    platform_amount_fen: int | None
    refundable_fen: int
    invoice_share_fen: int
    invoice_profile: ProfileOut
    contract_name: str
    service_market_order_no: str
    shop_name: str
    seller_nick: str
    baison_staff: str
    reminder_name: str
    reminder_mobile: str
    reminder_email: str
    reminder_backup_email: str | None
    app_key: str | None
    consignee: ConsigneeOut | None
    remark: str | None
    placed_at: LocalTime
    service_end_at: LocalTime
    approved_at: LocalTime | None
    completed_at: LocalTime | None
    transaction: TransactionOut
    settled: bool
    settled_at: LocalTime | None
    refund_decision: str | None
    refund_decision_label: str | None
    invoices: list[InvoiceOut]
    refund: RefundOut | None
    return_reason: str | None
    void_reason: str | None
    deadline_passed: bool
    allowed_actions: list[str]
    events: list[EventOut]
    version: int
    # Some of its back-office work is past its time limit (超时); staff only.
    overdue: bool = False


class OrderPageOut(PageOut[OrderOut]):
    tab_counts: dict[str, int]
    # Pass as `cursor` for the next page (keyset paging); None on the last page.
    next_cursor: str | None = None


class QueueOut(BaseModel):
    """One of the back office's work queues: how many items wait, how many past the limit."""

    queue: str
    label: str
    count: int
    overdue: int


class PayoutOut(BaseModel):
    refund_id: str
    order_no: str
    amount_fen: int
    bank_reference: str
    paid_at: LocalTime
    confirmed_by: str


# --- requests (besides the domain's own inputs) ---------------------------------------


class RefundDecisionIn(StrictInput):
    decision: RefundDecision


class RefundForm(RefundAccountInput):
    """The multipart refund form: the account fields plus the proof document."""

    proof: UploadFile | None = None


class ApproveIn(StrictInput):
    platform_amount_fen: int | None = Field(default=None, gt=0)
    note: Note | None = None


class ReasonIn(StrictInput):
    reason: Reason


class NoteIn(StrictInput):
    note: Note | None = None


class IssueInvoiceIn(StrictInput):
    invoice_number: Code
    issued_at: AwareTime | None = None


class ShipInvoiceIn(StrictInput):
    courier: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), ONE_LINE
    ]
    tracking_no: Code


class PayoutIn(StrictInput):
    amount_fen: int = Field(gt=0)
    bank_reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
    ]
    paid_at: AwareTime | None = None


# --- identity ---------------------------------------------------------------------------

NEW_PASSWORD_MIN, NEW_PASSWORD_MAX = 8, 256


def _current_password_given(text: str) -> str:
    if not text:
        raise ValueError("请填写当前密码")
    return text


def _new_password_fits(text: str) -> str:
    if len(text) < NEW_PASSWORD_MIN:
        raise ValueError(f"新密码至少 {NEW_PASSWORD_MIN} 个字符")
    if len(text) > NEW_PASSWORD_MAX:
        raise ValueError(f"新密码不能超过 {NEW_PASSWORD_MAX} 个字符")
    return text


class PasswordChangeIn(BaseModel):
    # Blank by default and checked anyway, so a missing field reads in Chinese too.
    model_config = ConfigDict(validate_default=True)

    current_password: Annotated[str, AfterValidator(_current_password_given)] = ""
    new_password: Annotated[str, AfterValidator(_new_password_fits)] = ""
