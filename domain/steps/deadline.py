"""The steps time takes (DOMAIN.md §4, the one-year deadline and 到期提醒): nobody asks for
them; the workflow's timers fire them."""

from __future__ import annotations

from datetime import datetime

from domain import lifecycle, queues
from domain.calendar import reminder_times
from domain.ids import refund_id_for
from domain.money import format_fen
from domain.notices import (
    Notice,
    Template,
    buyer_notice,
    deadline_reminder,
    expiry_reminder,
)
from domain.order import SYSTEM_ACTOR, OrderState, Refund
from domain.statuses import (
    FINISHED_INVOICE_STATUSES,
    FINISHED_REFUND_STATUSES,
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    SettlementMode,
)
from domain.steps.bookkeeping import invoice_refundable_share, log_refund, record
from domain.steps.order import confirm_receipt, void
from domain.steps.refund import decide_refund

OVERDUE_VOID_REASON = "逾期未审核"


def apply_deadline(state: OrderState, at: datetime) -> list[Notice]:
    """Service end: invoice every amount neither invoiced nor on its way to the buyer."""
    if state.deadline_passed:
        return []
    state.deadline_passed = True
    if state.status in (OrderStatus.SUBMITTED, OrderStatus.RETURNED):
        notices = void(state, SYSTEM_ACTOR, at, OVERDUE_VOID_REASON)
        state.version += 1
        return notices
    if state.status is OrderStatus.VOIDED:
        state.version += 1
        return []

    before = _invoice_statuses(state)
    if state.status is OrderStatus.APPROVED and state.mode is not SettlementMode.REFUND_ONLY:
        confirm_receipt(state, SYSTEM_ACTOR, at, automatic=True)
    if state.mode is not SettlementMode.INVOICE_ONLY and state.refund_decision is None:
        decide_refund(state, SYSTEM_ACTOR, RefundDecision.NO_REFUND, at, automatic=True)
    elif state.refund_decision is RefundDecision.REFUND:
        _expire_unfinished_refund(state, at)
    state.version += 1
    return _auto_invoice_notices(state, before, "auto-invoice")


def correction_due(state: OrderState) -> datetime | None:
    """The last moment to correct a refund returned for changes after the deadline, while
    it still waits on the buyer."""
    refund = state.refund
    if refund is None or refund.status is not RefundStatus.CHANGES_REQUESTED:
        return None
    return refund.correct_by


def apply_correction_deadline(state: OrderState, at: datetime) -> list[Notice]:
    """REFUND_CORRECTION_PERIOD is over and the refund still uncorrected: it is closed as
    expired and its amount invoiced, so the run can end."""
    due = correction_due(state)
    if due is None or at < due:
        return []
    before = _invoice_statuses(state)
    _expire_unfinished_refund(state, at)
    state.version += 1
    return _auto_invoice_notices(state, before, "auto-invoice-after-correction-period")


def _invoice_statuses(state: OrderState) -> dict[str, InvoiceStatus]:
    return {i.invoice_app_no: i.status for i in state.invoices}


def _auto_invoice_notices(
    state: OrderState, before: dict[str, InvoiceStatus], occasion: str
) -> list[Notice]:
    """The e-mail naming the invoices applied automatically since ``before``, if any."""
    auto = [
        i
        for i in state.invoices
        if i.status is InvoiceStatus.APPLIED
        and before.get(i.invoice_app_no) is not InvoiceStatus.APPLIED
    ]
    if not auto:
        return []
    amounts = "、".join(f"{i.invoice_app_no} {format_fen(i.amount_fen)}" for i in auto)
    return [buyer_notice(state, Template.AUTO_INVOICE, occasion, invoices=amounts)]


def _expire_unfinished_refund(state: OrderState, at: datetime) -> None:
    """退款 chosen but not filed, or left 退款修改: closed as expired and invoiced instead."""
    refund = state.refund
    if refund is None:
        refund = Refund(
            refund_id=refund_id_for(state.order_no),
            amount_fen=state.refundable_fen,
            status=RefundStatus.EXPIRED,
        )
        state.refund = refund
    elif refund.status is RefundStatus.CHANGES_REQUESTED:
        refund.status = RefundStatus.EXPIRED
    else:
        return  # applied or agreed: waiting on Baison, left to finish
    log_refund(refund, at, SYSTEM_ACTOR, "逾期未完成退款, 自动生成开票")
    invoice_refundable_share(state, at, automatic=True)
    record(state, at, SYSTEM_ACTOR, "expire_refund", "退款逾期关闭, 自动生成开票")


def due_reminders(state: OrderState) -> list[tuple[int, datetime]]:
    """Reminders not yet sent, earliest first (those before the order time never happen)."""
    if state.status is OrderStatus.VOIDED:
        return []
    return [
        (d, at)
        for d, at in reminder_times(state.placed_at, state.service_end_at)
        if d not in state.reminders_sent
    ]


def reminders(state: OrderState, days: int) -> list[Notice]:
    """The e-mails of the reminder ``days`` before service end; marks it sent."""
    state.reminders_sent.append(days)
    state.version += 1
    notices = [expiry_reminder(state, days)]
    todo = lifecycle.buyer_todo(state)
    if todo:
        notices.append(deadline_reminder(state, days, todo))
    return notices


def next_moment(state: OrderState) -> datetime | None:
    """When time next has something to do for this order: a reminder, the one-year
    deadline, or the end of a correction period; None when nothing is left."""
    moments = [at for _, at in due_reminders(state)]
    if not state.deadline_passed:
        moments.append(state.service_end_at)
    correction = correction_due(state)
    if correction is not None:
        moments.append(correction)
    return min(moments, default=None)


def fire_due(state: OrderState, now: datetime) -> list[Notice]:
    """Take every step whose time has come by ``now``; the e-mails they call for."""
    notices: list[Notice] = []
    for days, at in due_reminders(state):
        if at > now:
            break
        if now < state.service_end_at:
            notices += reminders(state, days)
        else:  # came due while every process was down for long; too late to remind
            state.reminders_sent.append(days)
    if not state.deadline_passed and now >= state.service_end_at:
        notices += apply_deadline(state, now)
    notices += apply_correction_deadline(state, now)
    queues.track(state, now)  # what time invoiced or voided enters or leaves the queues
    return notices


def is_finished(state: OrderState, now: datetime) -> bool:
    """The workflow may end: voided, or past service end with nothing left to finish."""
    if state.status is OrderStatus.VOIDED:
        return True
    if not state.deadline_passed or now < state.service_end_at:
        return False
    invoices_done = all(i.status in FINISHED_INVOICE_STATUSES for i in state.invoices)
    refund_done = state.refund is None or state.refund.status in FINISHED_REFUND_STATUSES
    return invoices_done and refund_done
