"""The records every step keeps: the audit trail, invoice applications, the refund log."""

from __future__ import annotations

from datetime import datetime

from domain import ids
from domain.order import (
    Actor,
    Event,
    InvoiceApplication,
    OrderState,
    Refund,
    RefundLogEntry,
)
from domain.statuses import InvoiceStatus, Role


def record(state: OrderState, at: datetime, actor: Actor, action: str, detail: str = "") -> None:
    """One line of the order's 操作记录."""
    state.events.append(
        Event(
            at=at,
            actor=f"{actor.display}({actor.username})"
            if actor.role is Role.BUYER
            else actor.username,
            action=action,
            detail=detail,
        )
    )


def new_invoice(
    state: OrderState,
    amount_fen: int,
    status: InvoiceStatus,
    at: datetime,
    automatic: bool = False,
) -> InvoiceApplication:
    """An invoice application numbered when it is made: the sequence was reserved at
    placement (unique on its own), the month is this one's, so an application the deadline
    makes a year later carries the deadline's month."""
    if not state.reserved_invoice_nos:
        raise RuntimeError(
            f"order {state.order_no} has no reserved invoice application number left"
        )
    sequence = ids.invoice_sequence_of(state.reserved_invoice_nos.pop(0))
    invoice = InvoiceApplication(
        invoice_app_no=ids.invoice_app_no(at, sequence),
        amount_fen=amount_fen,
        status=status,
        created_at=at,
        automatic=automatic,
        profile=state.invoice_profile.model_copy(),
    )
    state.invoices.append(invoice)
    return invoice


def pending_slot(state: OrderState) -> InvoiceApplication | None:
    """The 未申请 invoice application waiting for the refund decision, if any."""
    return next((i for i in state.invoices if i.status is InvoiceStatus.PENDING), None)


def invoice_refundable_share(
    state: OrderState, at: datetime, automatic: bool
) -> InvoiceApplication | None:
    """不退款 (chosen or by the deadline): the refundable share becomes an applied invoice."""
    if state.refundable_fen == 0:
        return None
    slot = pending_slot(state)
    if slot is not None:
        slot.status = InvoiceStatus.APPLIED
        slot.automatic = automatic
        return slot
    return new_invoice(state, state.refundable_fen, InvoiceStatus.APPLIED, at, automatic)


def log_refund(refund: Refund, at: datetime, actor: Actor, action: str) -> None:
    """One line of the refund's 操作日志."""
    refund.log.append(
        RefundLogEntry(
            seq=len(refund.log) + 1,
            at=at,
            operator=actor.display,
            action=action,
            amount_fen=refund.amount_fen,
            status=refund.status,
        )
    )


def current_refund(state: OrderState) -> Refund:
    """The order's refund; its step's guard made sure there is one."""
    if state.refund is None:
        raise RuntimeError(f"order {state.order_no} has no refund")
    return state.refund
