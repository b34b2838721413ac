"""What may happen to an order now, and what happens when it does (DOMAIN.md §4).

The rules are the step declarations of ``domain.steps``; this module collects them and
judges a command against them. The workflow's validators and handlers, the API's
``allowed_actions`` and the pages' buttons all ask here, so they cannot disagree.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from domain import queues
from domain.commands import Action, Command, InvoiceCommand
from domain.notices import Notice
from domain.order import Actor, InvoiceApplication, OrderState
from domain.statuses import ROLE_LABELS, InvoiceStatus, Role, SettlementMode
from domain.steps import invoice, order, refund
from domain.steps.notices import NOTICE_FAILED, NOTICE_FAILED_LABEL
from domain.steps.step import Step, Target

STEPS: dict[Action, Step[Any]] = {
    step.action: step for step in (*order.STEPS, *refund.STEPS, *invoice.STEPS)
}
# Every action is declared, and only once.
assert set(STEPS) == set(Action) and len(STEPS) == len(order.STEPS + refund.STEPS + invoice.STEPS)


# What the 操作记录 calls each recorded event: the steps, and what nobody asks for.
EVENT_LABELS = {action.value: step.label for action, step in STEPS.items()} | {
    "place": "店铺订购结算",
    "expire_refund": "退款逾期关闭",
    NOTICE_FAILED: NOTICE_FAILED_LABEL,
}

# Nothing about an invoice changes once it is issued.
ISSUED_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.SHIPPED)


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


def step_for(action: Action | str) -> Step[Any]:
    return STEPS[Action(action)]


def label_of(action: Action | str) -> str:
    return STEPS[Action(action)].label


def actions_on(target: Target) -> tuple[Action, ...]:
    """The actions aimed at one kind of resource, in the order buttons show them."""
    return tuple(a for a in Action if STEPS[a].target is target)


def _invoice_refusal(invoice: InvoiceApplication, step: Step[Any]) -> str | None:
    needed = step.invoice_from
    if needed is None or invoice.status is needed:
        return None
    message = (
        f"开票申请 {invoice.invoice_app_no} 当前为「{invoice.status.label}」，"
        f"{step.label}需要「{needed.label}」"
    )
    if step.action is Action.EDIT_INVOICE and invoice.status in ISSUED_STATUSES:
        message += "（发票开出后不能再修改）"
    return message


def _on_invoices(state: OrderState, step: Step[Any], invoice_app_no: str | None) -> str | None:
    if invoice_app_no is not None:
        invoice = state.invoice(invoice_app_no)
        if invoice is None:
            raise TransitionRefused(RefusalCode.NOT_FOUND, f"开票申请 {invoice_app_no} 不存在")
        return _invoice_refusal(invoice, step)
    # Asked of the order as a whole: may it be done to any of its applications?
    reasons = [_invoice_refusal(i, step) for i in state.invoices]
    if any(reason is None for reason in reasons):
        return None
    needed = step.invoice_from.label if step.invoice_from else ""
    return next(
        iter(reasons),
        f"订单 {state.order_no} 没有开票申请，{step.label}需要一张「{needed}」的开票申请",
    )


def refusal(
    state: OrderState, action: Action, actor: Actor, invoice_app_no: str | None = None
) -> TransitionRefused | None:
    """Why ``actor`` may not do ``action`` now, or None when they may."""
    step = STEPS[action]
    if actor.role not in step.roles:
        return TransitionRefused(
            RefusalCode.FORBIDDEN, f"{ROLE_LABELS[actor.role]}不能{step.label}"
        )
    if actor.role is Role.BUYER and actor.username != state.buyer:
        return TransitionRefused(RefusalCode.NOT_FOUND, f"订单 {state.order_no} 不存在")
    try:
        if step.target is Target.INVOICE:
            reason = _on_invoices(state, step, invoice_app_no)
        else:
            reason = step.when(state, step)
    except TransitionRefused as refused:
        return refused
    return None if reason is None else TransitionRefused(RefusalCode.INVALID_TRANSITION, reason)


def allowed_actions(state: OrderState, actor: Actor) -> list[str]:
    """What ``actor`` may do to this order now, exactly as the workflow would judge it."""
    return [action.value for action in Action if refusal(state, action, actor) is None]


def check(state: OrderState, command: Command) -> None:
    """Raise TransitionRefused when ``command`` may not be applied to ``state`` now."""
    target = command.invoice_app_no if isinstance(command, InvoiceCommand) else None
    refused = refusal(state, command.action, command.actor, target)
    if refused is not None:
        raise refused
    step = STEPS[command.action]
    reason = step.check_input(state, command) if step.check_input else None
    if reason is not None:
        raise TransitionRefused(RefusalCode.INVALID_INPUT, reason)


def apply(state: OrderState, command: Command, at: datetime) -> list[Notice]:
    """Apply a checked command; returns the e-mails it calls for. Call check() first."""
    step = STEPS[command.action]
    if not isinstance(command, step.command):
        raise TypeError(f"{command.action} takes {step.command.__name__}, not {type(command)}")
    notices = step.effect(state, command, at)
    queues.track(state, at)
    state.version += 1
    return notices


def buyer_todo(state: OrderState) -> list[str]:
    """Labels of what the buyer still has to do; empty when nothing waits on them."""
    buyer = Actor(username=state.buyer, role=Role.BUYER, company=state.buyer_company)
    return [label_of(a) for a in allowed_actions(state, buyer)]


def invoice_slots(mode: SettlementMode) -> int:
    """How many invoice applications an order of this mode can ever need."""
    return 2 if mode is SettlementMode.INVOICE_AND_REFUND else 1
