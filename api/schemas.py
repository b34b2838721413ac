"""Response shapes of API.md. Money in *_fen, every status with its *_label."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


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
    id: int | None = None
    invoice_type: str
    invoice_type_label: str
    title: str
    taxpayer_id: str
    recipient_name: str
    recipient_mobile: str
    recipient_address: str


class ProductRef(BaseModel):
    code: str
    name: str
    line: str
    platform: str
    platform_label: str
    settlement_mode: str
    settlement_mode_label: str


class TransactionOut(BaseModel):
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
    amount_fen: int
    status: str
    status_label: str
    automatic: bool
    created_at: datetime
    invoice_number: str | None
    issued_at: datetime | None
    courier: str | None
    tracking_no: str | None
    shipped_at: datetime | None
    return_reason: str | None
    profile: ProfileOut
    allowed_actions: list[str]


class RefundLogOut(BaseModel):
    seq: int
    at: datetime
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
    applied_at: datetime | None
    agreed_at: datetime | None
    paid_at: datetime | None
    bank_reference: str | None
    log: list[RefundLogOut]
    allowed_actions: list[str]


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
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
    placed_at: datetime
    service_end_at: datetime
    transaction: TransactionOut
    settled: bool
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


class OrderPageOut(PageOut[OrderOut]):
    tab_counts: dict[str, int]


class PayoutOut(BaseModel):
    refund_id: str
    order_no: str
    amount_fen: int
    bank_reference: str
    paid_at: datetime
    confirmed_by: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str


class MeOut(BaseModel):
    username: str
    role: str
    company: str
