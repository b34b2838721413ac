"""The state of one shop order: what the workflow holds and the projection stores."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from domain.catalog import Module, Platform
from domain.money import share_of
from domain.statuses import (
    InvoiceStatus,
    InvoiceType,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    RefundType,
    Role,
    SettlementMode,
)

PAYMENT_METHOD = "第三方支付"
STAFF_DISPLAY = "bmp后台操作"
SYSTEM_DISPLAY = "系统"


class Actor(BaseModel):
    """Who asks: the API fills this from the signed-in user, never from the request body."""

    username: str
    role: Role
    company: str = ""

    @property
    def display(self) -> str:
        """How the refund log names the operator: the buyer's company, or the back office."""
        if self.role is Role.BUYER:
            return self.company or self.username
        if self.username == "system":
            return SYSTEM_DISPLAY
        return STAFF_DISPLAY


SYSTEM_ACTOR = Actor(username="system", role=Role.ADMIN, company="")


class ProductSnapshot(BaseModel):
    code: str
    name: str
    line: str
    platform: Platform
    settlement_mode: SettlementMode
    refund_share_bp: int
    agreement: str


class InvoiceProfileSnapshot(BaseModel):
    profile_id: int | None = None
    invoice_type: InvoiceType
    title: str
    taxpayer_id: str
    recipient_name: str
    recipient_mobile: str
    recipient_address: str


class ConsigneeSnapshot(BaseModel):
    """收货人信息 as the order was placed with it; ``address_id`` names the saved 收货地址
    it was taken from, if any."""

    address_id: int | None = None
    name: str
    mobile: str
    phone: str | None = None
    postcode: str
    address: str


class ProofRef(BaseModel):
    """An uploaded refund proof: the file lives in proof storage, history holds only this."""

    key: str
    filename: str
    content_type: str
    size: int
    sha256: str


class BankCardRef(BaseModel):
    """A bank card number kept encrypted in the card vault: history holds only this (claim
    check). ``card_ref`` is the vault's key for it; ``card_no_masked`` what people are shown."""

    card_ref: str = Field(pattern=r"^[0-9a-f]{32}$")
    card_no_masked: str = Field(max_length=32)


class InvoiceApplication(BaseModel):
    invoice_app_no: str
    amount_fen: int
    status: InvoiceStatus
    created_at: datetime
    automatic: bool = False
    invoice_number: str | None = None
    issued_at: datetime | None = None
    courier: str | None = None
    tracking_no: str | None = None
    shipped_at: datetime | None = None
    return_reason: str | None = None
    profile: InvoiceProfileSnapshot


class RefundLogEntry(BaseModel):
    seq: int
    at: datetime
    operator: str
    action: str
    amount_fen: int
    status: RefundStatus


class Refund(BaseModel):
    refund_id: str
    amount_fen: int
    status: RefundStatus
    refund_type: RefundType | None = None
    account_name: str = ""
    bank: str = ""
    branch: str = ""
    card: BankCardRef | None = None
    region: str = ""
    proof: ProofRef | None = None
    return_reason: str | None = None
    applied_at: datetime | None = None
    agreed_at: datetime | None = None
    paid_at: datetime | None = None
    bank_reference: str | None = None
    paid_by: str | None = None
    # Returned for changes after the one-year deadline: the last moment to correct it.
    correct_by: datetime | None = None
    log: list[RefundLogEntry] = Field(default_factory=list)


class QueueLimits(BaseModel):
    """The back office's time limits (SLA_* settings) as they were when the order was placed;
    orders placed before the limits existed take these defaults."""

    review: timedelta = timedelta(days=2)
    refund_review: timedelta = timedelta(days=3)
    payout: timedelta = timedelta(days=3)
    invoice_issue: timedelta = timedelta(days=7)
    invoice_ship: timedelta = timedelta(days=3)


class QueueClock(BaseModel):
    """One open piece of back-office work (domain.queues): since when it waits in its queue,
    when its limit runs out, and when it was flagged 超时 (None while in time)."""

    queue: str
    item_id: str
    since: datetime
    due: datetime
    flagged_at: datetime | None = None


class Event(BaseModel):
    """One line of the audit trail: who did what when."""

    at: datetime
    actor: str
    action: str
    detail: str = ""


class OrderState(BaseModel):
    order_no: str
    buyer: str
    buyer_company: str
    buyer_email: str | None = None
    product: ProductSnapshot
    modules: list[Module]
    standard_fen: int
    discount_fen: int = 0
    platform_amount_fen: int | None = None
    invoice_profile: InvoiceProfileSnapshot
    contract_name: str
    service_market_order_no: str
    shop_name: str
    seller_nick: str
    baison_staff: str
    reminder_name: str
    reminder_mobile: str
    reminder_email: str
    reminder_backup_email: str | None = None
    # The integration service's key, made at placement; orders placed before it have none.
    app_key: str | None = None
    consignee: ConsigneeSnapshot | None = None
    remark: str | None = None
    placed_at: datetime
    service_end_at: datetime
    # REFUND_CORRECTION_PERIOD as it was when the order was placed.
    refund_correction_period: timedelta = timedelta(days=30)
    queue_limits: QueueLimits = Field(default_factory=QueueLimits)
    queue_clocks: list[QueueClock] = Field(default_factory=list)
    placement_key: str | None = None
    # Keyed digest of the placing request, so the same key with another body is refused.
    placement_fingerprint: str | None = None
    serial_no: str = ""
    reserved_invoice_nos: list[str] = Field(default_factory=list)
    status: OrderStatus = OrderStatus.SUBMITTED
    return_reason: str | None = None
    void_reason: str | None = None
    approved_at: datetime | None = None
    completed_at: datetime | None = None
    settled: bool = False
    settled_at: datetime | None = None
    refund_decision: RefundDecision | None = None
    invoices: list[InvoiceApplication] = Field(default_factory=list)
    refund: Refund | None = None
    deadline_passed: bool = False
    reminders_sent: list[int] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    version: int = 0

    @property
    def subtotal_fen(self) -> int:
        return self.standard_fen - self.discount_fen

    @property
    def base_fen(self) -> int:
        """What invoices and refund share out: the platform amount if recorded, else subtotal."""
        return (
            self.platform_amount_fen if self.platform_amount_fen is not None else self.subtotal_fen
        )

    @property
    def refundable_fen(self) -> int:
        return share_of(self.base_fen, self.product.refund_share_bp)

    @property
    def invoice_share_fen(self) -> int:
        return self.base_fen - self.refundable_fen

    @property
    def mode(self) -> SettlementMode:
        return self.product.settlement_mode

    def invoice(self, invoice_app_no: str) -> InvoiceApplication | None:
        return next((i for i in self.invoices if i.invoice_app_no == invoice_app_no), None)

    @property
    def invoice_status_summary(self) -> InvoiceStatus | None:
        """The invoice status ops search by: the least advanced live application's."""
        order = list(InvoiceStatus)
        live = [i.status for i in self.invoices]
        return min(live, key=order.index) if live else None
