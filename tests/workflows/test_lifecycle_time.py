"""The one-year deadline and the reminders, with a whole year skipped in milliseconds."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType

from domain.calendar import shanghai
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    ConfirmReceipt,
    DecideRefund,
    EditRefund,
    IssueInvoice,
    Payout,
    RecordSettlement,
    ReturnRefund,
    ShipInvoice,
)
from domain.order import OrderState
from domain.statuses import (
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    RefundType,
    SettlementMode,
)
from domain.steps.deadline import OVERDUE_VOID_REASON
from tests.support.samples import BUYER, FINANCE, REVIEWER, refund_account
from tests.workflows.harness import Lifecycle, keep_history
from workflows.shop_order import ShopOrderWorkflow

PAST_DEADLINE = timedelta(days=366)


async def test_deadline_without_decision_invoices_the_refundable_share(
    lifecycle: Lifecycle,
) -> None:
    handle, state = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.env.sleep(PAST_DEADLINE)
    after = await handle.query(ShopOrderWorkflow.state)
    assert after.refund_decision is RefundDecision.NO_REFUND and after.deadline_passed
    assert [(i.status, i.automatic) for i in after.invoices] == [
        (InvoiceStatus.APPLIED, False),
        (InvoiceStatus.APPLIED, True),
    ]
    assert any("逾期自动生成开票" in s for s in await lifecycle.mail_settled(1, state.order_no))
    await keep_history(handle, "deadline_no_decision")


async def test_deadline_confirms_receipt_of_an_approved_order(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.env.sleep(PAST_DEADLINE)
    after = await handle.query(ShopOrderWorkflow.state)
    assert after.status is OrderStatus.COMPLETED
    assert [(i.amount_fen, i.status, i.automatic) for i in after.invoices] == [
        (200_000, InvoiceStatus.APPLIED, True)
    ]


async def test_deadline_invoice_carries_the_deadlines_month_not_the_orders(
    lifecycle: Lifecycle,
) -> None:
    handle, placed = await lifecycle.place(SettlementMode.INVOICE_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.env.sleep(PAST_DEADLINE)
    [invoice] = (await handle.query(ShopOrderWorkflow.state)).invoices
    made_in = f"{shanghai(invoice.created_at):%Y%m}"
    assert (
        made_in == f"{shanghai(placed.service_end_at):%Y%m}" != f"{shanghai(placed.placed_at):%Y%m}"
    )
    assert invoice.invoice_app_no == f"KP_{made_in}_{placed.reserved_invoice_nos[0][-8:]}"


async def test_deadline_expires_a_refund_chosen_but_never_filed(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.REFUND_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    await lifecycle.env.sleep(PAST_DEADLINE)
    after = await handle.query(ShopOrderWorkflow.state)
    assert after.refund is not None and after.refund.status is RefundStatus.EXPIRED
    assert [(i.amount_fen, i.status) for i in after.invoices] == [(200_000, InvoiceStatus.APPLIED)]


async def test_deadline_expires_a_refund_left_for_changes(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    await lifecycle.act(
        handle, ApplyRefund(actor=BUYER, account=refund_account(RefundType.ENTERPRISE))
    )
    await lifecycle.act(handle, RecordSettlement(actor=REVIEWER))
    await lifecycle.act(handle, ReturnRefund(actor=REVIEWER, reason="卡号有误"))
    await lifecycle.env.sleep(PAST_DEADLINE)
    after = await handle.query(ShopOrderWorkflow.state)
    assert after.refund is not None and after.refund.status is RefundStatus.EXPIRED
    assert [i.status for i in after.invoices] == [InvoiceStatus.APPLIED, InvoiceStatus.APPLIED]
    assert sum(i.amount_fen for i in after.invoices) == after.base_fen
    await keep_history(handle, "deadline_refund_changes_requested")


async def test_deadline_leaves_an_applied_refund_to_finish(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    await lifecycle.act(
        handle, ApplyRefund(actor=BUYER, account=refund_account(RefundType.ENTERPRISE))
    )
    await lifecycle.env.sleep(PAST_DEADLINE)
    after = await handle.query(ShopOrderWorkflow.state)
    assert after.refund is not None and after.refund.status is RefundStatus.APPLIED
    assert [i.status for i in after.invoices] == [InvoiceStatus.APPLIED, InvoiceStatus.PENDING]

    # Baison finishes the refund and the invoice after the deadline; only then does the run end.
    await lifecycle.act(handle, RecordSettlement(actor=REVIEWER))
    await lifecycle.act(handle, AgreeRefund(actor=REVIEWER))
    await lifecycle.act(handle, Payout(actor=FINANCE, amount_fen=100_000, bank_reference="B1"))
    first = state.invoices[0].invoice_app_no
    await lifecycle.act(
        handle, IssueInvoice(actor=REVIEWER, invoice_app_no=first, invoice_number="N1")
    )
    await lifecycle.act(
        handle, ShipInvoice(actor=REVIEWER, invoice_app_no=first, courier="中通", tracking_no="T1")
    )
    outcome = await handle.result()
    assert [i.status for i in outcome.final.invoices] == [
        InvoiceStatus.SHIPPED,
        InvoiceStatus.CANCELLED,
    ]
    await keep_history(handle, "deadline_refund_applied_then_paid")


async def test_deadline_voids_an_order_never_reviewed(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place()
    await lifecycle.env.sleep(PAST_DEADLINE)
    outcome = await handle.result()
    assert outcome.final.status is OrderStatus.VOIDED
    assert outcome.final.void_reason == OVERDUE_VOID_REASON


async def test_run_waits_for_open_invoices_after_the_deadline(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.env.sleep(PAST_DEADLINE)
    description = await handle.describe()
    assert description.status is not None and description.status.name == "RUNNING"
    app_no = state.invoices[0].invoice_app_no
    await lifecycle.act(
        handle, IssueInvoice(actor=REVIEWER, invoice_app_no=app_no, invoice_number="N2")
    )
    await lifecycle.act(
        handle,
        ShipInvoice(actor=REVIEWER, invoice_app_no=app_no, courier="顺丰", tracking_no="SF1"),
    )
    assert (await handle.result()).final.invoices[0].status is InvoiceStatus.SHIPPED


async def test_reminders_go_out_30_7_1_days_before_service_end(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))  # the buyer still has to confirm receipt
    until_end = state.service_end_at - await lifecycle.env.get_current_time()
    await lifecycle.env.sleep(until_end - timedelta(days=30) + timedelta(minutes=1))
    subjects = await lifecycle.mail_settled(2, state.order_no)
    assert sorted(subjects) == sorted(
        [
            f"【百胜云市场】店铺 {state.shop_name} 的服务将于 {state.service_end_at.astimezone(__import__('domain.calendar', fromlist=['SHANGHAI']).SHANGHAI):%Y-%m-%d} 到期",
            f"【百胜云市场】订单 {state.order_no} 距一年期限还有 30 天，请尽快完成",
        ]
    )
    expiry = next(
        m for m in lifecycle.smtp.for_order(state.order_no) if "到期" in str(m["Subject"])
    )
    assert str(expiry["To"]) == "lilei@example.com, backup@example.com"
    await lifecycle.env.sleep(timedelta(days=29, hours=23))
    subjects = await lifecycle.mail_settled(6, state.order_no)
    assert sum("到期" in s for s in subjects) == 3
    assert sum("距一年期限" in s for s in subjects) == 3
    assert (await handle.query(ShopOrderWorkflow.state)).reminders_sent == [30, 7, 1]


async def test_reminders_skip_the_buyer_when_nothing_waits_on_them(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place(SettlementMode.INVOICE_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.env.sleep(
        state.service_end_at - await lifecycle.env.get_current_time() - timedelta(hours=12)
    )
    subjects = await lifecycle.mail_settled(3, state.order_no)
    assert sum("到期" in s for s in subjects) == 3
    assert not any("距一年期限" in s for s in subjects)


async def test_short_service_term_skips_reminders_before_the_order_time(
    lifecycle: Lifecycle,
) -> None:
    handle, state = await lifecycle.place(
        SettlementMode.INVOICE_ONLY, term=(0, timedelta(minutes=10))
    )
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.env.sleep(timedelta(minutes=11))
    after = await handle.query(ShopOrderWorkflow.state)
    assert after.deadline_passed and after.reminders_sent == []
    assert not any("到期" in s for s in lifecycle.smtp.subjects(state.order_no))


async def test_changes_that_leave_the_next_moment_in_place_keep_its_timer(
    lifecycle: Lifecycle,
) -> None:
    """One timer per moment (reminder, deadline or time limit), not one per change: a
    year-long order's history stays short however often it changes."""
    handle, _ = await lifecycle.place()
    await lifecycle.act(handle, Approve(actor=REVIEWER))  # the review's limit is gone
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))  # an invoice's limit comes
    before = await _timer_events(handle)
    # 不退款 applies a second invoice, whose limit comes after the first one's.
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.NO_REFUND))
    assert (
        await _timer_events(handle)
        == before
        == {
            EventType.EVENT_TYPE_TIMER_STARTED: 3,
            EventType.EVENT_TYPE_TIMER_CANCELED: 2,
        }
    )


async def _timer_events(handle: Any) -> Counter[int]:
    history = await handle.fetch_history()
    return Counter(
        event.event_type
        for event in history.events
        if event.event_type
        in (EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_TIMER_CANCELED)
    )


async def _mail_body_mentioning(lifecycle: Lifecycle, order_no: str, text: str) -> str:
    """The plain body of the order's e-mail that mentions ``text``, once it has arrived."""
    for _ in range(200):
        for message in lifecycle.smtp.for_order(order_no):
            body = str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            if text in body:
                return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"no e-mail about {order_no} mentions {text!r}")


async def _refund_returned_after_the_deadline(lifecycle: Lifecycle) -> tuple[Any, OrderState]:
    """A JD refund filed in time, still 退款申请 at the deadline (waiting on Baison, so left
    to finish), then returned for changes by the back office after it."""
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    await lifecycle.act(
        handle, ApplyRefund(actor=BUYER, account=refund_account(RefundType.ENTERPRISE))
    )
    await lifecycle.env.sleep(PAST_DEADLINE)
    await lifecycle.act(handle, RecordSettlement(actor=REVIEWER))
    returned = await lifecycle.act(handle, ReturnRefund(actor=REVIEWER, reason="开户行有误"))
    return handle, returned


async def test_refund_returned_after_the_deadline_and_never_corrected_is_closed_and_invoiced(
    lifecycle: Lifecycle,
) -> None:
    handle, returned = await _refund_returned_after_the_deadline(lifecycle)
    assert returned.deadline_passed and returned.refund is not None
    correct_by = returned.refund.correct_by
    assert correct_by is not None
    assert correct_by - returned.refund.log[-1].at == timedelta(days=30)
    body = await _mail_body_mentioning(lifecycle, returned.order_no, "开户行有误")
    assert f"请于 {shanghai(correct_by):%Y-%m-%d} 前完成修改" in body

    await lifecycle.env.sleep(timedelta(days=31))
    closed = await handle.query(ShopOrderWorkflow.state)
    assert closed.refund is not None and closed.refund.status is RefundStatus.EXPIRED
    assert [i.status for i in closed.invoices] == [InvoiceStatus.APPLIED, InvoiceStatus.APPLIED]
    assert sum(i.amount_fen for i in closed.invoices) == closed.base_fen
    for invoice in closed.invoices:
        no = invoice.invoice_app_no
        await lifecycle.act(
            handle, IssueInvoice(actor=REVIEWER, invoice_app_no=no, invoice_number=f"N{no}")
        )
        await lifecycle.act(
            handle,
            ShipInvoice(actor=REVIEWER, invoice_app_no=no, courier="中通", tracking_no=f"ZT{no}"),
        )
    outcome = await handle.result()  # the run ends
    assert outcome.final is not None and outcome.final.refund is not None
    assert outcome.final.refund.status is RefundStatus.EXPIRED


async def test_refund_returned_after_the_deadline_and_corrected_in_time_goes_on(
    lifecycle: Lifecycle,
) -> None:
    handle, _ = await _refund_returned_after_the_deadline(lifecycle)
    await lifecycle.env.sleep(timedelta(days=29))
    corrected = await lifecycle.act(
        handle, EditRefund(actor=BUYER, account=refund_account(RefundType.ENTERPRISE))
    )
    assert corrected.refund is not None and corrected.refund.correct_by is None
    await lifecycle.env.sleep(timedelta(days=5))  # past when the period would have ended
    waiting = await handle.query(ShopOrderWorkflow.state)
    assert waiting.refund is not None and waiting.refund.status is RefundStatus.APPLIED
    await lifecycle.act(handle, AgreeRefund(actor=REVIEWER))
    paid = await lifecycle.act(
        handle, Payout(actor=FINANCE, amount_fen=100_000, bank_reference="ICBC-LATE")
    )
    assert paid.refund is not None and paid.refund.status is RefundStatus.REFUNDED
    assert [i.status for i in paid.invoices] == [InvoiceStatus.APPLIED, InvoiceStatus.CANCELLED]
