"""The back office's time limits are durable timers in the order's run: an item past its limit
is flagged 超时 once per stage and its queue's staff e-mailed once, on the time-skipping server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db import models
from devstack.processes import free_port
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    ConfirmReceipt,
    DecideRefund,
    EditOrder,
    IssueInvoice,
    RecordSettlement,
    ReturnOrder,
)
from domain.order import OrderState
from domain.queues import Queue
from domain.statuses import RefundDecision, RefundType, SettlementMode
from tests.support.samples import BUYER, REVIEWER, refund_account
from tests.support.smtp import SmtpSink
from tests.support.time_skipping import running_lifecycle
from tests.workflows.harness import Lifecycle
from workflows.shop_order import ShopOrderWorkflow

REVIEWERS = ["reviewer1@baison.example", "reviewer2@baison.example"]
FINANCE = ["finance@baison.example"]
STAFF_EMAILS = f"reviewer={','.join(REVIEWERS)};finance={FINANCE[0]}"


class FlakySink(SmtpSink):
    """Refuses the first delivery of every message for now (451), so each staff e-mail's
    activity is retried before it goes out; counts the refusals."""

    def __init__(self) -> None:
        super().__init__()
        self.refused_once: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.content.decode("utf-8", "replace")
        key = next(line for line in content.splitlines() if line.startswith("X-Outbox-Key:"))
        if key not in self.refused_once:
            self.refused_once.add(key)
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
async def staffed(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[tuple[Lifecycle, FlakySink]]:
    sink = FlakySink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        async with running_lifecycle(
            time_skipping_env, session_maker, sink, tmp_path, "queues", staff_emails=STAFF_EMAILS
        ) as running:
            yield running, sink
    finally:
        controller.stop()


def _staff_mail(sink: SmtpSink, queue: Queue, item_id: str) -> list[EmailMessage]:
    return [
        m
        for m in sink.messages
        if str(m["Subject"]).startswith(f"【bmp后台】{queue.label}超时：{item_id}（")
    ]


def _flags(state: OrderState) -> list[tuple[str, str, bool]]:
    return [(c.queue, c.item_id, c.flagged_at is not None) for c in state.queue_clocks]


async def _state(handle: Any) -> OrderState:
    result: OrderState = await handle.query(ShopOrderWorkflow.state)
    return result


async def test_review_past_its_limit_is_flagged_once_and_reviewers_emailed_once(
    staffed: tuple[Lifecycle, FlakySink],
) -> None:
    lifecycle, sink = staffed
    handle, state = await lifecycle.place()
    await lifecycle.env.sleep(timedelta(days=2, hours=1))
    flagged = await _state(handle)
    assert _flags(flagged) == [("review", state.order_no, True)]
    [clock] = flagged.queue_clocks
    assert clock.since == state.placed_at and clock.due == state.placed_at + timedelta(days=2)
    await lifecycle.mail_settled(1, state.order_no)
    [mail] = _staff_mail(sink, Queue.REVIEW, state.order_no)
    assert str(mail["To"]) == ", ".join(REVIEWERS)
    body = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "「待审核」" in body and "已超过处理时限（2天）" in body
    assert mail.get_body(("html",)) is not None
    assert any(state.order_no in key for key in sink.refused_once)  # the first try was refused

    # More time passes: the item stays flagged as it was and nobody is e-mailed again.
    await lifecycle.env.sleep(timedelta(days=5))
    later = await _state(handle)
    assert later.queue_clocks[0].flagged_at == clock.flagged_at
    assert len(_staff_mail(sink, Queue.REVIEW, state.order_no)) == 1
    async with lifecycle.sessions() as session:
        rows = (
            await session.scalars(
                select(models.OutboxMessage).where(
                    models.OutboxMessage.order_no == state.order_no,
                    models.OutboxMessage.template == "staff_overdue",
                )
            )
        ).all()
    assert [(r.status, r.attempts, r.recipients) for r in rows] == [("sent", 2, REVIEWERS)]
    # Staff e-mails stay out of the buyer's 我的消息.
    async with lifecycle.sessions() as session:
        messages = await session.scalars(
            select(models.Message.title).where(models.Message.order_no == state.order_no)
        )
        assert not [t for t in messages if "超时" in t]


async def test_review_handled_in_time_is_never_flagged(
    staffed: tuple[Lifecycle, FlakySink],
) -> None:
    lifecycle, sink = staffed
    handle, state = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.env.sleep(timedelta(days=1, hours=23))
    approved = await lifecycle.act(handle, Approve(actor=REVIEWER))
    assert approved.queue_clocks == []
    await lifecycle.env.sleep(timedelta(days=3))
    assert _flags(await _state(handle)) == []
    assert _staff_mail(sink, Queue.REVIEW, state.order_no) == []


async def test_resubmitted_order_is_a_new_stage_flagged_again(
    staffed: tuple[Lifecycle, FlakySink],
) -> None:
    lifecycle, sink = staffed
    handle, state = await lifecycle.place()
    await lifecycle.env.sleep(timedelta(days=3))
    first = (await _state(handle)).queue_clocks[0]
    assert first.flagged_at is not None
    await lifecycle.act(handle, ReturnOrder(actor=REVIEWER, reason="店铺名称有误"))
    resubmitted = await lifecycle.act(handle, EditOrder(actor=BUYER, shop_name="快乐京东旗舰店"))
    [fresh] = resubmitted.queue_clocks
    assert fresh.flagged_at is None and fresh.since > first.since
    await lifecycle.env.sleep(timedelta(days=1))
    assert _flags(await _state(handle)) == [("review", state.order_no, False)]
    await lifecycle.env.sleep(timedelta(days=1, hours=1))
    assert _flags(await _state(handle)) == [("review", state.order_no, True)]
    await lifecycle.mail_settled(2, state.order_no)
    assert len(_staff_mail(sink, Queue.REVIEW, state.order_no)) == 2


async def test_refund_review_clock_starts_at_settlement_and_payout_emails_finance(
    staffed: tuple[Lifecycle, FlakySink],
) -> None:
    lifecycle, sink = staffed
    handle, _ = await lifecycle.place(SettlementMode.REFUND_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    applied = await lifecycle.act(
        handle, ApplyRefund(actor=BUYER, account=refund_account(RefundType.ENTERPRISE))
    )
    assert applied.refund is not None
    refund_id = applied.refund.refund_id
    # Not reviewable before the platform settlement: not in 待审核退款, no clock.
    await lifecycle.env.sleep(timedelta(days=5))
    assert _flags(await _state(handle)) == []
    await lifecycle.act(handle, RecordSettlement(actor=REVIEWER))
    await lifecycle.env.sleep(timedelta(days=2))
    assert _flags(await _state(handle)) == [("refund_review", refund_id, False)]
    await lifecycle.env.sleep(timedelta(days=1, hours=1))
    assert _flags(await _state(handle)) == [("refund_review", refund_id, True)]

    agreed = await lifecycle.act(handle, AgreeRefund(actor=REVIEWER))
    assert _flags(agreed) == [("payout", refund_id, False)]
    await lifecycle.env.sleep(timedelta(days=3, hours=1))
    assert _flags(await _state(handle)) == [("payout", refund_id, True)]
    await lifecycle.mail_settled(2, applied.order_no)
    [payout_mail] = _staff_mail(sink, Queue.PAYOUT, refund_id)
    assert str(payout_mail["To"]) == FINANCE[0]
    [review_mail] = _staff_mail(sink, Queue.REFUND_REVIEW, refund_id)
    assert str(review_mail["To"]) == ", ".join(REVIEWERS)


async def test_invoices_waiting_to_be_issued_then_shipped_are_flagged_per_stage(
    staffed: tuple[Lifecycle, FlakySink],
) -> None:
    lifecycle, sink = staffed
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    confirmed = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    app_no = confirmed.invoices[0].invoice_app_no
    await lifecycle.env.sleep(timedelta(days=7, hours=1))
    assert _flags(await _state(handle)) == [("invoice_issue", app_no, True)]
    issued = await lifecycle.act(
        handle, IssueInvoice(actor=REVIEWER, invoice_app_no=app_no, invoice_number="Q1")
    )
    assert _flags(issued) == [("invoice_ship", app_no, False)]
    await lifecycle.env.sleep(timedelta(days=3, hours=1))
    assert _flags(await _state(handle)) == [("invoice_ship", app_no, True)]
    await lifecycle.mail_settled(2, confirmed.order_no)
    assert len(_staff_mail(sink, Queue.INVOICE_ISSUE, app_no)) == 1
    assert len(_staff_mail(sink, Queue.INVOICE_SHIP, app_no)) == 1
