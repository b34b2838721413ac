"""The invoice applications' steps (DOMAIN.md §4, 开票): issue, ship, return for
correction, and the buyer's 发票修改. Each acts on one application of the order."""

from __future__ import annotations

from datetime import datetime

from domain.commands import (
    Action,
    EditInvoice,
    InvoiceCommand,
    IssueInvoice,
    ReturnInvoice,
    ShipInvoice,
)
from domain.notices import Notice, Template, buyer_notice, invoice_context
from domain.order import InvoiceApplication, OrderState
from domain.statuses import BUYERS, REVIEWERS, InvoiceStatus
from domain.steps.bookkeeping import record
from domain.steps.step import Step, Target


def target_invoice(state: OrderState, cmd: InvoiceCommand) -> InvoiceApplication:
    """The application the command names; its step's guard made sure it exists."""
    invoice = state.invoice(cmd.invoice_app_no)
    if invoice is None:
        raise RuntimeError(f"invoice application {cmd.invoice_app_no} not found")
    return invoice


def _issue(state: OrderState, cmd: IssueInvoice, at: datetime) -> list[Notice]:
    invoice = target_invoice(state, cmd)
    invoice.status = InvoiceStatus.ISSUED
    invoice.invoice_number = cmd.invoice_number
    invoice.issued_at = cmd.issued_at or at
    detail = f"{invoice.invoice_app_no} 发票号 {cmd.invoice_number}"
    record(state, at, cmd.actor, cmd.action, detail)
    return []


def _number_not_on_another_application(state: OrderState, cmd: IssueInvoice) -> str | None:
    """Within the order; the projection refuses a number another order's application has."""
    for other in state.invoices:
        if (
            other.invoice_number == cmd.invoice_number
            and other.invoice_app_no != cmd.invoice_app_no
        ):
            return f"发票号 {cmd.invoice_number} 已登记在开票申请 {other.invoice_app_no} 上"
    return None


ISSUE_INVOICE = Step(
    action=Action.ISSUE_INVOICE,
    label="开票",
    roles=REVIEWERS,
    command=IssueInvoice,
    invoice_from=InvoiceStatus.APPLIED,
    check_input=_number_not_on_another_application,
    input_field="invoice_number",
    effect=_issue,
    target=Target.INVOICE,
)


def _ship(state: OrderState, cmd: ShipInvoice, at: datetime) -> list[Notice]:
    invoice = target_invoice(state, cmd)
    invoice.status = InvoiceStatus.SHIPPED
    invoice.courier = cmd.courier
    invoice.tracking_no = cmd.tracking_no
    invoice.shipped_at = at
    detail = f"{invoice.invoice_app_no} {cmd.courier} {cmd.tracking_no}"
    record(state, at, cmd.actor, cmd.action, detail)
    occasion = f"invoice-shipped-{invoice.invoice_app_no}"
    return [
        buyer_notice(state, Template.INVOICE_SHIPPED, occasion, **invoice_context(invoice)),
    ]


SHIP_INVOICE = Step(
    action=Action.SHIP_INVOICE,
    label="寄送发票",
    roles=REVIEWERS,
    command=ShipInvoice,
    invoice_from=InvoiceStatus.ISSUED,
    effect=_ship,
    notices=(Template.INVOICE_SHIPPED,),
    target=Target.INVOICE,
)


def _return(state: OrderState, cmd: ReturnInvoice, at: datetime) -> list[Notice]:
    invoice = target_invoice(state, cmd)
    invoice.status = InvoiceStatus.RETURNED
    invoice.return_reason = cmd.reason
    record(state, at, cmd.actor, cmd.action, f"{invoice.invoice_app_no} {cmd.reason}")
    occasion = f"invoice-returned-{invoice.invoice_app_no}-v{state.version + 1}"
    context = invoice_context(invoice)
    return [
        buyer_notice(state, Template.INVOICE_RETURNED, occasion, reason=cmd.reason, **context),
    ]


RETURN_INVOICE = Step(
    action=Action.RETURN_INVOICE,
    label="发票打回",
    roles=REVIEWERS,
    command=ReturnInvoice,
    invoice_from=InvoiceStatus.APPLIED,
    effect=_return,
    notices=(Template.INVOICE_RETURNED,),
    target=Target.INVOICE,
)


def _edit(state: OrderState, cmd: EditInvoice, at: datetime) -> list[Notice]:
    invoice = target_invoice(state, cmd)
    changes = cmd.patch.model_dump(exclude_none=True)
    invoice.profile = invoice.profile.model_copy(update=changes)
    invoice.status = InvoiceStatus.APPLIED
    invoice.return_reason = None
    detail = f"{invoice.invoice_app_no}: " + ", ".join(sorted(changes))
    record(state, at, cmd.actor, cmd.action, detail)
    return []


EDIT_INVOICE = Step(
    action=Action.EDIT_INVOICE,
    label="发票修改",
    roles=BUYERS,
    command=EditInvoice,
    invoice_from=InvoiceStatus.RETURNED,
    effect=_edit,
    target=Target.INVOICE,
)

STEPS = (ISSUE_INVOICE, SHIP_INVOICE, RETURN_INVOICE, EDIT_INVOICE)
