"""Realistic order states without the stack: the states an order passes through on its
way, made by ``domain.lifecycle`` itself so every one is valid (the list endpoints validate
each row's state as an OrderState)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from domain import ids, lifecycle
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    Command,
    ConfirmReceipt,
    DecideRefund,
    IssueInvoice,
    Payout,
    RecordSettlement,
    ReturnOrder,
    ShipInvoice,
    VoidOrder,
)
from domain.order import OrderState
from domain.statuses import RefundDecision, RefundType
from tests.support.orders import new_order, product
from tests.support.samples import BUYER, FINANCE, PROOF, REVIEWER, refund_account

ACCOUNT = refund_account(RefundType.ENTERPRISE)


def _invoice_step(state: OrderState, make: type[IssueInvoice] | type[ShipInvoice]) -> Command:
    target = next(i for i in state.invoices if i.status.value in ("applied", "issued"))
    if make is IssueInvoice:
        return IssueInvoice(
            actor=REVIEWER,
            invoice_app_no=target.invoice_app_no,
            invoice_number="2398" + target.invoice_app_no[-8:],
        )
    return ShipInvoice(
        actor=REVIEWER,
        invoice_app_no=target.invoice_app_no,
        courier="中通",
        tracking_no="123123123",
    )


# Each path is a product and the commands its order takes; every prefix is a stage.
PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "JD0001",
        ("approve", "confirm", "refund", "apply", "settle", "agree", "payout", "issue", "ship"),
    ),
    ("JD0001", ("return",)),
    ("JD0001", ("void",)),
    ("JD0001", ("approve", "confirm", "no_refund", "issue")),
    ("JSFW0001", ("approve", "confirm", "issue", "ship")),
    ("DY0001", ("approve", "refund", "apply")),
)


def _command(step: str, state: OrderState) -> Command:
    match step:
        case "approve":
            return Approve(actor=REVIEWER, platform_amount_fen=state.subtotal_fen)
        case "confirm":
            return ConfirmReceipt(actor=BUYER)
        case "refund":
            return DecideRefund(actor=BUYER, decision=RefundDecision.REFUND)
        case "no_refund":
            return DecideRefund(actor=BUYER, decision=RefundDecision.NO_REFUND)
        case "apply":
            return ApplyRefund(actor=BUYER, account=ACCOUNT, proof=PROOF)
        case "settle":
            return RecordSettlement(actor=REVIEWER)
        case "agree":
            return AgreeRefund(actor=REVIEWER)
        case "payout":
            assert state.refund is not None
            return Payout(
                actor=FINANCE, amount_fen=state.refund.amount_fen, bank_reference="ICBC0001"
            )
        case "issue":
            return _invoice_step(state, IssueInvoice)
        case "ship":
            return _invoice_step(state, ShipInvoice)
        case "return":
            return ReturnOrder(actor=REVIEWER, reason="店铺名称有误")
        case "void":
            return VoidOrder(actor=REVIEWER, reason="重复下单")
    raise ValueError(step)


def stages(placed_at: datetime) -> list[OrderState]:
    """Every state on every path (submitted included once), for a placeholder order."""
    order_no = ids.order_no(placed_at, 0)
    found: list[OrderState] = []
    for path_index, (code, steps) in enumerate(PATHS):
        state = new_order(product(code), order_no=order_no, placed_at=placed_at, tag="000000")
        state.serial_no = "000000000000"
        state.reserved_invoice_nos = [
            ids.invoice_app_no(placed_at, n + 1) for n in range(lifecycle.invoice_slots(state.mode))
        ]
        if path_index == 0:
            found.append(state.model_copy(deep=True))
        found += walk(state, steps, placed_at)
    return found


def walk(state: OrderState, steps: Sequence[str], since: datetime) -> Iterator[OrderState]:
    """A copy of each state ``state`` passes through taking ``steps`` (one every five hours
    from ``since``); ``state`` itself ends at the last."""
    at = since
    for step in steps:
        at += timedelta(hours=5)
        command = _command(step, state)
        lifecycle.check(state, command)
        lifecycle.apply(state, command, at)
        yield state.model_copy(deep=True)


def placed_now(index: int, tag: str, at: datetime | None = None) -> OrderState:
    """A new JD order numbered by ``index`` (unique for 10,000 per second of ``at``)."""
    moment = (at or datetime.now(UTC)).replace(microsecond=0)
    moment -= timedelta(seconds=index // 10_000)
    order_no = ids.order_no(moment, index % 10_000)
    return new_order(
        product("JD0001"), order_no=order_no, placed_at=moment, tag=f"{tag}{index:06d}"
    )


def weights(states: Sequence[OrderState]) -> list[float]:
    """More orders early in their life than late, as a real book of orders has."""
    return [1.0 / (1 + 0.15 * min(len(s.events), 10)) for s in states]
