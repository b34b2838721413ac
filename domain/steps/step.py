"""What a business step is: one declaration holds everything about one action.

A step says who may take it (roles), from which states (``when``, or the invoice status
it starts from), what input it takes (its command type) and what that input must satisfy
(``check_input``), what it changes and which e-mails it sends (``effect``), and its
Chinese label. The workflow's validators and handlers, ``allowed_actions``, the API's
dispatch, the pages' buttons and the refusal sentences all read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from domain.commands import Action, Command
from domain.notices import Notice, Template
from domain.order import OrderState
from domain.statuses import InvoiceStatus, OrderStatus, RefundStatus, Role

C = TypeVar("C", bound=Command)

# A guard answers why the step may not be taken now (a sentence in Chinese), or None.
Guard = Callable[[OrderState, "Step[Any]"], str | None]


class Target(StrEnum):
    """What a step acts on; also which API resource answers it."""

    ORDER = "order"
    REFUND = "refund"
    INVOICE = "invoice"


def always(state: OrderState, step: Step[Any]) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Step(Generic[C]):
    action: Action
    label: str
    roles: frozenset[Role]
    command: type[C]
    effect: Callable[[OrderState, C, datetime], list[Notice]]
    # Order and refund steps: the states it may start from, and what else must hold.
    when: Guard = always
    # Invoice steps act on one invoice application, which must be in this status.
    invoice_from: InvoiceStatus | None = None
    # Rules on the input's values that depend on the order (422, naming ``input_field``).
    check_input: Callable[[OrderState, C], str | None] | None = None
    input_field: str = "body"
    # The e-mails ``effect`` may send: documentation and tests read it.
    notices: tuple[Template, ...] = ()
    target: Target = Target.ORDER

    @property
    def name(self) -> str:
        """The Workflow Update this step travels by."""
        return self.action.value


# --- guards the declarations compose ------------------------------------------------------


def order_in(*statuses: OrderStatus) -> Guard:
    """The order must be in one of ``statuses``."""

    def guard(state: OrderState, step: Step[Any]) -> str | None:
        if state.status in statuses:
            return None
        wanted = "或".join(f"「{s.label}」" for s in statuses)
        return f"订单 {state.order_no} 当前为「{state.status.label}」，{step.label}需要{wanted}"

    return guard


def refund_in(status: RefundStatus) -> Guard:
    """The order's refund application must be in ``status``."""

    def guard(state: OrderState, step: Step[Any]) -> str | None:
        refund = state.refund
        if refund is None:
            return (
                f"订单 {state.order_no} 没有退款申请，{step.label}需要「{status.label}」的退款申请"
            )
        if refund.status is not status:
            return (
                f"退款 {refund.refund_id} 当前为「{refund.status.label}」，"
                f"{step.label}需要「{status.label}」"
            )
        return None

    return guard


def all_of(*guards: Guard) -> Guard:
    """Every guard must pass; the first refusal is the answer."""

    def guard(state: OrderState, step: Step[Any]) -> str | None:
        for each in guards:
            reason = each(state, step)
            if reason is not None:
                return reason
        return None

    return guard
