"""What may happen to an order, and what happens when it does (DOMAIN.md §4).

One source of truth: the workflow's validators, its handlers and the API's
``allowed_actions`` all ask this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from domain.calendar import reminder_times
from domain.commands import (
    ACTION_ROLES,
    INVOICE_ACTIONS,
    Action,
    AgreeRefund,
    ApplyRefund,
    Approve,
    Command,
    ConfirmReceipt,
    DecideRefund,
    EditInvoice,
    EditOrder,
    EditRefund,
    InvoiceCommand,
    IssueInvoice,
    Payout,
    RecordSettlement,
    ReturnInvoice,
    ReturnOrder,
    ReturnRefund,
    ShipInvoice,
    VoidOrder,
)
from domain.ids import refund_id_for
from domain.money import format_fen
from domain.notices import (
    Notice,
    Template,
    buyer_notice,
    deadline_reminder,
    expiry_reminder,
    invoice_context,
)
from domain.order import (
    SYSTEM_ACTOR,
    Actor,
    Event,
    InvoiceApplication,
    OrderState,
    Refund,
    RefundLogEntry,
)
from domain.statuses import (
    FINISHED_INVOICE_STATUSES,
    FINISHED_REFUND_STATUSES,
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    RefundType,
    Role,
    SettlementMode,
)

OVERDUE_VOID_REASON = "逾期未审核"


class RefusalCode(StrEnum):
    FORBIDDEN = "forbidden"  # 403: this role never may
    NOT_FOUND = "not_found"  # 404: not there, or not the caller's
    INVALID_TRANSITION = "invalid_transition"  # 409: not in the current state
    INVALID_INPUT = "invalid_input"  # 422: the values given do not fit


class TransitionRefused(Exception):  # noqa: N818 - a refusal is an answer, not an error
    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _needs(state: OrderState, action: Action, *statuses: OrderStatus) -> str | None:
    if state.status in statuses:
        return None
    wanted = "或".join(s.label for s in statuses)
    return f"order {state.order_no} is {state.status.label}; {action.label} needs {wanted}"


def _refund_needs(state: OrderState, action: Action, status: RefundStatus) -> str | None:
    refund = state.refund
    if refund is None:
        return (
            f"order {state.order_no} has no refund application; {action.label} needs {status.label}"
        )
    if refund.status is not status:
        return (
            f"refund {refund.refund_id} is {refund.status.label}; "
            f"{action.label} needs {status.label}"
        )
    return None


def _decision_refusal(state: OrderState, action: Action) -> str | None:
    if state.mode is SettlementMode.INVOICE_ONLY:
        return (
            f"order {state.order_no} is an invoice-only product (只开票); "
            "there is no refund decision"
        )
    if state.refund_decision is not None:
        return (
            f"the refund decision of order {state.order_no} was already made "
            f"({state.refund_decision.label}); it cannot be changed"
        )
    if state.mode is SettlementMode.REFUND_ONLY:
        return _needs(state, action, OrderStatus.APPROVED)
    return _needs(state, action, OrderStatus.COMPLETED)


def _apply_refund_refusal(state: OrderState, action: Action) -> str | None:
    if state.refund_decision is not RefundDecision.REFUND:
        return (
            f"order {state.order_no} has no 退款 decision; {action.label} needs the decision 退款"
        )
    if state.refund is not None:
        refund = state.refund
        return (
            f"order {state.order_no} already has refund {refund.refund_id} ({refund.status.label})"
        )
    if state.deadline_passed:
        return f"the one-year refund deadline of order {state.order_no} has passed"
    return None


def _settlement_refusal(state: OrderState, action: Action) -> str | None:
    if state.settled:
        return f"the platform settlement of order {state.order_no} is already recorded"
    return _needs(state, action, OrderStatus.APPROVED, OrderStatus.COMPLETED)


def _agree_refusal(state: OrderState, action: Action) -> str | None:
    refused = _refund_needs(state, action, RefundStatus.APPLIED)
    if refused is None and not state.settled:
        return (
            f"the platform has not yet settled with Baison for order {state.order_no}; "
            "the refund can be reviewed only after the settlement is recorded"
        )
    return refused


ORDER_GUARDS: dict[Action, Callable[[OrderState, Action], str | None]] = {
    Action.EDIT: lambda s, a: _needs(s, a, OrderStatus.RETURNED),
    Action.CONFIRM_RECEIPT: lambda s, a: (
        f"order {s.order_no} is a refund-only product (只退款); it has no receipt step"
        if s.mode is SettlementMode.REFUND_ONLY
        else _needs(s, a, OrderStatus.APPROVED)
    ),
    Action.DECIDE_REFUND: _decision_refusal,
    Action.APPLY_REFUND: _apply_refund_refusal,
    Action.EDIT_REFUND: lambda s, a: _refund_needs(s, a, RefundStatus.CHANGES_REQUESTED),
    Action.APPROVE: lambda s, a: _needs(s, a, OrderStatus.SUBMITTED),
    Action.RETURN: lambda s, a: _needs(s, a, OrderStatus.SUBMITTED),
    Action.VOID: lambda s, a: _needs(
        s, a, OrderStatus.SUBMITTED, OrderStatus.RETURNED, OrderStatus.APPROVED
    ),
    Action.RECORD_SETTLEMENT: _settlement_refusal,
    Action.AGREE_REFUND: _agree_refusal,
    Action.RETURN_REFUND: lambda s, a: _refund_needs(s, a, RefundStatus.APPLIED),
    Action.PAYOUT: lambda s, a: _refund_needs(s, a, RefundStatus.AGREED),
}

# The invoice status each invoice action starts from.
INVOICE_NEEDS: dict[Action, InvoiceStatus] = {
    Action.ISSUE_INVOICE: InvoiceStatus.APPLIED,
    Action.SHIP_INVOICE: InvoiceStatus.ISSUED,
    Action.RETURN_INVOICE: InvoiceStatus.APPLIED,
    Action.EDIT_INVOICE: InvoiceStatus.RETURNED,
}


def _invoice_refusal(invoice: InvoiceApplication, action: Action) -> str | None:
    needed = INVOICE_NEEDS[action]
    if invoice.status is needed:
        return None
    message = (
        f"invoice application {invoice.invoice_app_no} is {invoice.status.label}; "
        f"{action.label} needs {needed.label}"
    )
    if action is Action.EDIT_INVOICE and invoice.status in (
        InvoiceStatus.ISSUED,
        InvoiceStatus.SHIPPED,
    ):
        message += " (nothing about an invoice changes after it is issued)"
    return message


def refusal(
    state: OrderState, action: Action, actor: Actor, invoice_app_no: str | None = None
) -> TransitionRefused | None:
    """Why ``actor`` may not do ``action`` now, or None when they may."""
    reason: str | None
    if actor.role not in ACTION_ROLES[action]:
        return TransitionRefused(
            RefusalCode.FORBIDDEN, f"the {actor.role} role may not {action.label}"
        )
    if actor.role is Role.BUYER and actor.username != state.buyer:
        return TransitionRefused(RefusalCode.NOT_FOUND, f"order {state.order_no} not found")
    if action in INVOICE_ACTIONS:
        if invoice_app_no is None:
            candidates = [_invoice_refusal(i, action) for i in state.invoices]
            if any(reason is None for reason in candidates):
                return None
            first = next(iter(candidates), None) or (
                f"order {state.order_no} has no invoice application; {action.label} needs one"
            )
            return TransitionRefused(RefusalCode.INVALID_TRANSITION, first)
        invoice = state.invoice(invoice_app_no)
        if invoice is None:
            return TransitionRefused(
                RefusalCode.NOT_FOUND, f"invoice application {invoice_app_no} not found"
            )
        reason = _invoice_refusal(invoice, action)
    else:
        reason = ORDER_GUARDS[action](state, action)
    return None if reason is None else TransitionRefused(RefusalCode.INVALID_TRANSITION, reason)


def allowed_actions(state: OrderState, actor: Actor) -> list[str]:
    """What ``actor`` may do to this order now, exactly as the workflow would judge it."""
    return [action.value for action in Action if refusal(state, action, actor) is None]


def _input_refusal(state: OrderState, command: Command) -> str | None:
    amount = command.platform_amount_fen if isinstance(command, Approve) else None
    if amount is not None and not 0 < amount <= state.subtotal_fen:
        return f"platform_amount_fen must be between 1 and the subtotal {state.subtotal_fen} fen"
    refund = state.refund
    if (
        isinstance(command, Payout)
        and refund is not None
        and command.amount_fen != refund.amount_fen
    ):
        return (
            f"amount_fen {command.amount_fen} does not equal the agreed refund amount "
            f"{refund.amount_fen} fen ({format_fen(refund.amount_fen)})"
        )
    if isinstance(command, ApplyRefund):
        has_proof = command.proof is not None or (
            isinstance(command, EditRefund)
            and state.refund is not None
            and state.refund.proof is not None
        )
        if command.account.refund_type is RefundType.INDIVIDUAL and not has_proof:
            return "an individual (个人) refund needs the proof document stamped by the company"
    return None


def check(state: OrderState, command: Command) -> None:
    """Raise TransitionRefused when ``command`` may not be applied to ``state`` now."""
    target = command.invoice_app_no if isinstance(command, InvoiceCommand) else None
    refused = refusal(state, command.action, command.actor, target)
    if refused is not None:
        raise refused
    reason = _input_refusal(state, command)
    if reason is not None:
        raise TransitionRefused(RefusalCode.INVALID_INPUT, reason)


# --- what happens -----------------------------------------------------------------


def _record(state: OrderState, at: datetime, actor: Actor, action: str, detail: str = "") -> None:
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


def _new_invoice(
    state: OrderState,
    amount_fen: int,
    status: InvoiceStatus,
    at: datetime,
    automatic: bool = False,
) -> InvoiceApplication:
    if not state.reserved_invoice_nos:
        raise RuntimeError(
            f"order {state.order_no} has no reserved invoice application number left"
        )
    invoice = InvoiceApplication(
        invoice_app_no=state.reserved_invoice_nos.pop(0),
        amount_fen=amount_fen,
        status=status,
        created_at=at,
        automatic=automatic,
        profile=state.invoice_profile.model_copy(),
    )
    state.invoices.append(invoice)
    return invoice


def _pending_slot(state: OrderState) -> InvoiceApplication | None:
    return next((i for i in state.invoices if i.status is InvoiceStatus.PENDING), None)


def _invoice_refundable_share(
    state: OrderState, at: datetime, automatic: bool
) -> InvoiceApplication | None:
    """不退款 (chosen or by the deadline): the refundable share becomes an applied invoice."""
    if state.refundable_fen == 0:
        return None
    slot = _pending_slot(state)
    if slot is not None:
        slot.status = InvoiceStatus.APPLIED
        slot.automatic = automatic
        return slot
    return _new_invoice(state, state.refundable_fen, InvoiceStatus.APPLIED, at, automatic)


def _log_refund(refund: Refund, at: datetime, actor: Actor, action: str) -> None:
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


def _edit_order(state: OrderState, cmd: EditOrder, at: datetime) -> list[Notice]:
    changed = cmd.model_dump(exclude={"actor", "invoice_profile"}, exclude_none=True)
    for field, value in changed.items():
        setattr(state, field, value)
    if cmd.invoice_profile is not None:
        state.invoice_profile = cmd.invoice_profile
        changed["invoice_profile"] = cmd.invoice_profile.title
    state.status = OrderStatus.SUBMITTED
    state.return_reason = None
    _record(
        state,
        at,
        cmd.actor,
        cmd.action,
        "修改信息后重新提交审核: " + ", ".join(sorted(changed)),
    )
    return []


def _confirm_receipt(
    state: OrderState, cmd: Command, at: datetime, automatic: bool = False
) -> list[Notice]:
    state.status = OrderStatus.COMPLETED
    state.completed_at = at
    if state.mode is SettlementMode.INVOICE_ONLY:
        _new_invoice(state, state.base_fen, InvoiceStatus.APPLIED, at, automatic)
    else:
        _new_invoice(state, state.invoice_share_fen, InvoiceStatus.APPLIED, at, automatic)
        _new_invoice(state, state.refundable_fen, InvoiceStatus.PENDING, at, automatic)
    detail = "逾期自动确认收货并生成开票申请" if automatic else "确认收货, 自动生成开票申请"
    _record(state, at, cmd.actor, Action.CONFIRM_RECEIPT, detail)
    return []


def _decide_refund(
    state: OrderState, cmd: DecideRefund, at: datetime, automatic: bool = False
) -> list[Notice]:
    state.refund_decision = cmd.decision
    if state.mode is SettlementMode.REFUND_ONLY:
        state.status = OrderStatus.COMPLETED
        state.completed_at = at
    if cmd.decision is RefundDecision.NO_REFUND:
        _invoice_refundable_share(state, at, automatic)
    detail = cmd.decision.label + (" (逾期自动)" if automatic else "")
    _record(state, at, cmd.actor, Action.DECIDE_REFUND, detail)
    return []


def _fill_refund(refund: Refund, cmd: ApplyRefund) -> None:
    account = cmd.account
    refund.refund_type = account.refund_type
    refund.account_name = account.account_name
    refund.bank = account.bank
    refund.branch = account.branch
    refund.card_no = account.card_no
    refund.region = account.region
    if cmd.proof is not None:
        refund.proof = cmd.proof


def _apply_refund(state: OrderState, cmd: ApplyRefund, at: datetime) -> list[Notice]:
    refund = Refund(
        refund_id=refund_id_for(state.order_no),
        amount_fen=state.refundable_fen,
        status=RefundStatus.APPLIED,
        applied_at=at,
    )
    _fill_refund(refund, cmd)
    _log_refund(refund, at, cmd.actor, "申请退款!")
    state.refund = refund
    _record(
        state,
        at,
        cmd.actor,
        cmd.action,
        f"{refund.refund_type and refund.refund_type.label} {format_fen(refund.amount_fen)}",
    )
    return []


def _edit_refund(state: OrderState, cmd: EditRefund, at: datetime) -> list[Notice]:
    refund = _refund(state)
    _fill_refund(refund, cmd)
    refund.status = RefundStatus.APPLIED
    refund.return_reason = None
    refund.applied_at = at
    _log_refund(refund, at, cmd.actor, "申请退款!")
    _record(state, at, cmd.actor, cmd.action, "修改退款信息后重新申请")
    return []


def _approve(state: OrderState, cmd: Approve, at: datetime) -> list[Notice]:
    state.status = OrderStatus.APPROVED
    state.approved_at = at
    detail = "审核通过"
    if cmd.platform_amount_fen is not None:
        state.platform_amount_fen = cmd.platform_amount_fen
        detail += f", 平台实付 {format_fen(cmd.platform_amount_fen)}"
    if cmd.note:
        detail += f", 备注: {cmd.note}"
    _record(state, at, cmd.actor, cmd.action, detail)
    return []


def _return_order(state: OrderState, cmd: ReturnOrder, at: datetime) -> list[Notice]:
    state.status = OrderStatus.RETURNED
    state.return_reason = cmd.reason
    _record(state, at, cmd.actor, cmd.action, cmd.reason)
    return [
        buyer_notice(
            state,
            Template.ORDER_RETURNED,
            f"returned-v{state.version + 1}",
            reason=cmd.reason,
        )
    ]


def _void_order(state: OrderState, cmd: Command, at: datetime, reason: str) -> list[Notice]:
    state.status = OrderStatus.VOIDED
    state.void_reason = reason
    _record(state, at, cmd.actor, Action.VOID, reason)
    return [buyer_notice(state, Template.ORDER_VOIDED, "voided", reason=reason)]


def _record_settlement(state: OrderState, cmd: RecordSettlement, at: datetime) -> list[Notice]:
    state.settled = True
    state.settled_at = at
    _record(state, at, cmd.actor, cmd.action, cmd.note or "平台已与百胜结算")
    return []


def _refund(state: OrderState) -> Refund:
    if state.refund is None:  # guarded by refusal(); a bug if reached
        raise RuntimeError(f"order {state.order_no} has no refund")
    return state.refund


def _agree_refund(state: OrderState, cmd: AgreeRefund, at: datetime) -> list[Notice]:
    refund = _refund(state)
    refund.status = RefundStatus.AGREED
    refund.agreed_at = at
    _log_refund(refund, at, cmd.actor, "同意退款" + (f" {cmd.note}" if cmd.note else ""))
    _record(state, at, cmd.actor, cmd.action, format_fen(refund.amount_fen))
    return [
        buyer_notice(
            state,
            Template.REFUND_AGREED,
            "refund-agreed",
            refund_amount=format_fen(refund.amount_fen),
        )
    ]


def _return_refund(state: OrderState, cmd: ReturnRefund, at: datetime) -> list[Notice]:
    refund = _refund(state)
    refund.status = RefundStatus.CHANGES_REQUESTED
    refund.return_reason = cmd.reason
    _log_refund(refund, at, cmd.actor, f"退款修改 {cmd.reason}")
    _record(state, at, cmd.actor, cmd.action, cmd.reason)
    return [
        buyer_notice(
            state,
            Template.REFUND_RETURNED,
            f"refund-returned-v{state.version + 1}",
            reason=cmd.reason,
            refund_amount=format_fen(refund.amount_fen),
        )
    ]


def _payout(state: OrderState, cmd: Payout, at: datetime) -> list[Notice]:
    refund = _refund(state)
    refund.status = RefundStatus.REFUNDED
    refund.paid_at = cmd.paid_at or at
    refund.bank_reference = cmd.bank_reference
    refund.paid_by = cmd.actor.username
    _log_refund(refund, at, cmd.actor, "已退款")
    slot = _pending_slot(state)
    if slot is not None:  # the share was refunded instead of invoiced
        slot.status = InvoiceStatus.CANCELLED
    _record(
        state,
        at,
        cmd.actor,
        cmd.action,
        f"{format_fen(refund.amount_fen)} 银行流水 {cmd.bank_reference}",
    )
    return [
        buyer_notice(
            state,
            Template.REFUND_PAID,
            "refund-paid",
            refund_amount=format_fen(refund.amount_fen),
            bank_reference=cmd.bank_reference,
        )
    ]


def _invoice(state: OrderState, cmd: InvoiceCommand) -> InvoiceApplication:
    invoice = state.invoice(cmd.invoice_app_no)
    if invoice is None:  # guarded by refusal(); a bug if reached
        raise RuntimeError(f"invoice application {cmd.invoice_app_no} not found")
    return invoice


def _issue_invoice(state: OrderState, cmd: IssueInvoice, at: datetime) -> list[Notice]:
    invoice = _invoice(state, cmd)
    invoice.status = InvoiceStatus.ISSUED
    invoice.invoice_number = cmd.invoice_number
    invoice.issued_at = cmd.issued_at or at
    _record(
        state,
        at,
        cmd.actor,
        cmd.action,
        f"{invoice.invoice_app_no} 发票号 {cmd.invoice_number}",
    )
    return []


def _ship_invoice(state: OrderState, cmd: ShipInvoice, at: datetime) -> list[Notice]:
    invoice = _invoice(state, cmd)
    invoice.status = InvoiceStatus.SHIPPED
    invoice.courier = cmd.courier
    invoice.tracking_no = cmd.tracking_no
    invoice.shipped_at = at
    _record(
        state,
        at,
        cmd.actor,
        cmd.action,
        f"{invoice.invoice_app_no} {cmd.courier} {cmd.tracking_no}",
    )
    return [
        buyer_notice(
            state,
            Template.INVOICE_SHIPPED,
            f"invoice-shipped-{invoice.invoice_app_no}",
            **invoice_context(invoice),
        )
    ]


def _return_invoice(state: OrderState, cmd: ReturnInvoice, at: datetime) -> list[Notice]:
    invoice = _invoice(state, cmd)
    invoice.status = InvoiceStatus.RETURNED
    invoice.return_reason = cmd.reason
    _record(state, at, cmd.actor, cmd.action, f"{invoice.invoice_app_no} {cmd.reason}")
    return [
        buyer_notice(
            state,
            Template.INVOICE_RETURNED,
            f"invoice-returned-{invoice.invoice_app_no}-v{state.version + 1}",
            reason=cmd.reason,
            **invoice_context(invoice),
        )
    ]


def _edit_invoice(state: OrderState, cmd: EditInvoice, at: datetime) -> list[Notice]:
    invoice = _invoice(state, cmd)
    changes = cmd.patch.model_dump(exclude_none=True)
    invoice.profile = invoice.profile.model_copy(update=changes)
    invoice.status = InvoiceStatus.APPLIED
    invoice.return_reason = None
    _record(
        state,
        at,
        cmd.actor,
        cmd.action,
        f"{invoice.invoice_app_no}: " + ", ".join(sorted(changes)),
    )
    return []


def apply(state: OrderState, command: Command, at: datetime) -> list[Notice]:
    """Apply a checked command; returns the e-mails it calls for. Call check() first."""
    match command:
        case EditOrder():
            notices = _edit_order(state, command, at)
        case ConfirmReceipt():
            notices = _confirm_receipt(state, command, at)
        case DecideRefund():
            notices = _decide_refund(state, command, at)
        case EditRefund():
            notices = _edit_refund(state, command, at)
        case ApplyRefund():
            notices = _apply_refund(state, command, at)
        case Approve():
            notices = _approve(state, command, at)
        case ReturnOrder():
            notices = _return_order(state, command, at)
        case VoidOrder():
            notices = _void_order(state, command, at, command.reason)
        case RecordSettlement():
            notices = _record_settlement(state, command, at)
        case AgreeRefund():
            notices = _agree_refund(state, command, at)
        case ReturnRefund():
            notices = _return_refund(state, command, at)
        case Payout():
            notices = _payout(state, command, at)
        case IssueInvoice():
            notices = _issue_invoice(state, command, at)
        case ShipInvoice():
            notices = _ship_invoice(state, command, at)
        case ReturnInvoice():
            notices = _return_invoice(state, command, at)
        case EditInvoice():
            notices = _edit_invoice(state, command, at)
        case _:
            raise TypeError(f"unknown command {type(command).__name__}")
    state.version += 1
    return notices


# --- time ---------------------------------------------------------------------------


def apply_deadline(state: OrderState, at: datetime) -> list[Notice]:
    """Service end: invoice every amount neither invoiced nor on its way to the buyer."""
    if state.deadline_passed:
        return []
    state.deadline_passed = True
    if state.status in (OrderStatus.SUBMITTED, OrderStatus.RETURNED):
        notices = _void_order(state, Command(actor=SYSTEM_ACTOR), at, OVERDUE_VOID_REASON)
        state.version += 1
        return notices
    if state.status is OrderStatus.VOIDED:
        state.version += 1
        return []

    before = {i.invoice_app_no: i.status for i in state.invoices}
    if state.status is OrderStatus.APPROVED and state.mode is not SettlementMode.REFUND_ONLY:
        _confirm_receipt(state, ConfirmReceipt(actor=SYSTEM_ACTOR), at, automatic=True)
    if state.mode is not SettlementMode.INVOICE_ONLY and state.refund_decision is None:
        _decide_refund(
            state,
            DecideRefund(actor=SYSTEM_ACTOR, decision=RefundDecision.NO_REFUND),
            at,
            automatic=True,
        )
    elif state.refund_decision is RefundDecision.REFUND:
        _expire_unfinished_refund(state, at)
    state.version += 1

    auto = [
        i
        for i in state.invoices
        if i.status is InvoiceStatus.APPLIED
        and before.get(i.invoice_app_no) is not InvoiceStatus.APPLIED
    ]
    if not auto:
        return []
    amounts = "、".join(f"{i.invoice_app_no} {format_fen(i.amount_fen)}" for i in auto)
    return [buyer_notice(state, Template.AUTO_INVOICE, "auto-invoice", invoices=amounts)]


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
    _log_refund(refund, at, SYSTEM_ACTOR, "逾期未完成退款, 自动生成开票")
    _invoice_refundable_share(state, at, automatic=True)
    _record(state, at, SYSTEM_ACTOR, "expire_refund", "退款逾期关闭, 自动生成开票")


def buyer_todo(state: OrderState) -> list[str]:
    """Labels of what the buyer still has to do; empty when nothing waits on them."""
    buyer = Actor(username=state.buyer, role=Role.BUYER, company=state.buyer_company)
    return [Action(a).label for a in allowed_actions(state, buyer)]


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
    todo = buyer_todo(state)
    if todo:
        notices.append(deadline_reminder(state, days, todo))
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


def invoice_slots(mode: SettlementMode) -> int:
    """How many invoice applications an order of this mode can ever need."""
    return 2 if mode is SettlementMode.INVOICE_AND_REFUND else 1
