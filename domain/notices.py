"""Which e-mail goes to whom after a change: decided here, rendered and sent by activities."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from domain.calendar import format_local, format_local_date
from domain.money import format_fen
from domain.order import InvoiceApplication, OrderState
from domain.statuses import Role


class Template(StrEnum):
    ORDER_RETURNED = "order_returned"
    ORDER_VOIDED = "order_voided"
    REFUND_RETURNED = "refund_returned"
    REFUND_AGREED = "refund_agreed"
    REFUND_PAID = "refund_paid"
    INVOICE_RETURNED = "invoice_returned"
    INVOICE_SHIPPED = "invoice_shipped"
    AUTO_INVOICE = "auto_invoice"
    DEADLINE_REMINDER = "deadline_reminder"
    EXPIRY_REMINDER = "expiry_reminder"
    STAFF_OVERDUE = "staff_overdue"
    FINANCE_DIGEST = "finance_digest"
    REVIEWER_DIGEST = "reviewer_digest"

    @property
    def label(self) -> str:
        return TEMPLATE_LABELS[self]


TEMPLATE_LABELS = {
    Template.ORDER_RETURNED: "订单打回通知",
    Template.ORDER_VOIDED: "订单作废通知",
    Template.REFUND_RETURNED: "退款打回通知",
    Template.REFUND_AGREED: "同意退款通知",
    Template.REFUND_PAID: "退款完成通知",
    Template.INVOICE_RETURNED: "开票打回通知",
    Template.INVOICE_SHIPPED: "发票寄送通知",
    Template.AUTO_INVOICE: "逾期自动开票通知",
    Template.DEADLINE_REMINDER: "一年期限提醒",
    Template.EXPIRY_REMINDER: "到期提醒",
    Template.STAFF_OVERDUE: "超时提醒",
    Template.FINANCE_DIGEST: "财务日报",
    Template.REVIEWER_DIGEST: "审核日报",
}

# Notices of the buyer's own order, each also left in the buyer's 我的消息. The expiry
# reminders go to the order's reminder recipients but concern the buyer's order all the same.
# A notice to staff (STAFF_OVERDUE) stays out of this set.
BUYER_MESSAGE_TEMPLATES = frozenset(
    {
        Template.ORDER_RETURNED,
        Template.ORDER_VOIDED,
        Template.REFUND_RETURNED,
        Template.REFUND_AGREED,
        Template.REFUND_PAID,
        Template.INVOICE_RETURNED,
        Template.INVOICE_SHIPPED,
        Template.AUTO_INVOICE,
        Template.DEADLINE_REMINDER,
        Template.EXPIRY_REMINDER,
    }
)


class Attachment(BaseModel):
    """A text file sent with an e-mail (the digest's CSV), written UTF-8 with a BOM so
    spreadsheet programs read the Chinese headers."""

    filename: str
    subtype: str = "csv"
    text: str


class Notice(BaseModel):
    template: Template
    to: list[str]
    # Unique per order and occasion: the outbox key is order number + this.
    occasion: str
    context: dict[str, str]
    # A notice to the staff of this role: ``to`` is empty and the recipients are looked up
    # (STAFF_EMAILS) when it is sent, so a changed list reaches every open order.
    staff: Role | None = None
    # Rows of the table a digest lists, and the files it attaches.
    rows: list[dict[str, str]] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)


def order_context(state: OrderState) -> dict[str, str]:
    return {
        "order_no": state.order_no,
        "company": state.buyer_company,
        "shop_name": state.shop_name,
        "product_name": state.product.name,
        "service_market_order_no": state.service_market_order_no,
        "placed_at": format_local(state.placed_at),
        "service_end_at": format_local(state.service_end_at),
        "service_end_date": format_local_date(state.service_end_at),
        "subtotal": format_fen(state.subtotal_fen),
    }


def _to_buyer(state: OrderState) -> list[str]:
    return [state.buyer_email] if state.buyer_email else [state.reminder_email]


def buyer_notice(state: OrderState, template: Template, occasion: str, **extra: str) -> Notice:
    return Notice(
        template=template,
        to=_to_buyer(state),
        occasion=occasion,
        context=order_context(state) | extra,
    )


def invoice_context(invoice: InvoiceApplication) -> dict[str, str]:
    return {
        "invoice_app_no": invoice.invoice_app_no,
        "invoice_amount": format_fen(invoice.amount_fen),
        "invoice_title": invoice.profile.title,
        "invoice_number": invoice.invoice_number or "",
        "courier": invoice.courier or "",
        "tracking_no": invoice.tracking_no or "",
    }


def expiry_reminder(state: OrderState, days: int) -> Notice:
    recipients = [state.reminder_email]
    if state.reminder_backup_email and state.reminder_backup_email != state.reminder_email:
        recipients.append(state.reminder_backup_email)
    return Notice(
        template=Template.EXPIRY_REMINDER,
        to=recipients,
        occasion=f"expiry-{days}d",
        context=order_context(state) | {"days": str(days), "reminder_name": state.reminder_name},
    )


def deadline_reminder(state: OrderState, days: int, todo: list[str]) -> Notice:
    return buyer_notice(
        state,
        Template.DEADLINE_REMINDER,
        f"deadline-{days}d",
        days=str(days),
        todo="、".join(todo),
    )
