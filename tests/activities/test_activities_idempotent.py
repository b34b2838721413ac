"""Activities run at least once: a retried call must change nothing more."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import contracts
from activities.mail import MailActivities
from activities.persistence import PersistenceActivities
from bench.orders import PATHS, new_order, product, walk
from db import models
from domain import ids, lifecycle
from domain.notices import Notice, Template
from domain.order import OrderState
from settings import Settings
from tests.support.smtp import SmtpSink


def _new_order(code: str = "JD0001", service_market_order_no: str | None = None) -> OrderState:
    placed_at = datetime.now(UTC).replace(microsecond=0)
    tag = uuid.uuid4().hex[:12]
    state = new_order(
        product(code),
        order_no=ids.order_no(placed_at, uuid.uuid4().int % 10_000),
        placed_at=placed_at,
        tag=tag,
    )
    if service_market_order_no is not None:
        state.service_market_order_no = service_market_order_no
    return state


async def _rows(session_maker: async_sessionmaker[AsyncSession], order_no: str) -> dict[str, Any]:
    """What the projection holds of one order, child rows included."""
    async with session_maker() as session:
        order = await session.get(models.Order, order_no)
        events = await session.execute(
            select(models.OrderEvent.seq, models.OrderEvent.action)
            .where(models.OrderEvent.order_no == order_no)
            .order_by(models.OrderEvent.seq)
        )
        invoices = await session.scalars(
            select(models.InvoiceApplication.data)
            .where(models.InvoiceApplication.order_no == order_no)
            .order_by(models.InvoiceApplication.invoice_app_no)
        )
        refund = await session.scalar(
            select(models.Refund.data).where(models.Refund.order_no == order_no)
        )
        log = await session.execute(
            select(models.RefundLogEntry.seq, models.RefundLogEntry.action)
            .join(models.Refund, models.Refund.refund_id == models.RefundLogEntry.refund_id)
            .where(models.Refund.order_no == order_no)
            .order_by(models.RefundLogEntry.seq)
        )
        payouts = await session.scalar(
            select(func.count())
            .select_from(models.Payout)
            .where(models.Payout.order_no == order_no)
        )
        transactions = await session.scalar(
            select(func.count())
            .select_from(models.Transaction)
            .where(models.Transaction.order_no == order_no)
        )
    assert order is not None
    return {
        "version": order.version,
        "state": order.state,
        "events": [tuple(row) for row in events],
        "invoices": list(invoices),
        "refund": refund,
        "refund_log": [tuple(row) for row in log],
        "payouts": payouts,
        "transactions": transactions,
    }


def _expected(state: OrderState, payouts: int) -> dict[str, Any]:
    """The rows a projection of ``state`` must hold."""
    return {
        "version": state.version,
        "state": state.model_dump(mode="json"),
        "events": [(seq, e.action) for seq, e in enumerate(state.events, start=1)],
        "invoices": [
            i.model_dump(mode="json")
            for i in sorted(state.invoices, key=lambda i: i.invoice_app_no)
        ],
        "refund": state.refund.model_dump(mode="json") if state.refund else None,
        "refund_log": [(e.seq, e.action) for e in state.refund.log] if state.refund else [],
        "payouts": payouts,
        "transactions": 1,
    }


async def test_record_placement_retried_returns_the_same_numbers_and_records_once(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    activities = PersistenceActivities(session_maker)
    state = _new_order()
    new = contracts.NewOrder(state=state, invoice_count=2)
    env = ActivityEnvironment()
    first = await env.run(activities.record_placement, new)
    retried = await env.run(activities.record_placement, new)
    assert (first.written, retried.written) == (True, False)
    assert first.numbers == retried.numbers and len(first.numbers.invoice_app_nos) == 2
    numbered = state.model_copy(
        update={
            "serial_no": first.numbers.serial_no,
            "reserved_invoice_nos": first.numbers.invoice_app_nos,
        }
    )
    assert await _rows(session_maker, state.order_no) == _expected(numbered, payouts=0)


async def test_record_placement_gives_each_order_its_own_serial_and_invoice_numbers(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    activities = PersistenceActivities(session_maker)
    env = ActivityEnvironment()
    a = await env.run(
        activities.record_placement, contracts.NewOrder(state=_new_order(), invoice_count=1)
    )
    b = await env.run(
        activities.record_placement, contracts.NewOrder(state=_new_order(), invoice_count=1)
    )
    assert int(b.numbers.serial_no) == int(a.numbers.serial_no) + 1
    assert a.numbers.invoice_app_nos != b.numbers.invoice_app_nos


async def test_record_placement_refuses_a_second_live_order_and_takes_no_numbers(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    activities = PersistenceActivities(session_maker)
    env = ActivityEnvironment()
    first = _new_order()
    await env.run(activities.record_placement, contracts.NewOrder(state=first, invoice_count=2))
    second = _new_order(service_market_order_no=first.service_market_order_no)
    with pytest.raises(ApplicationError) as refused:
        await env.run(
            activities.record_placement, contracts.NewOrder(state=second, invoice_count=2)
        )
    assert (refused.value.type, refused.value.non_retryable) == (
        contracts.SERVICE_MARKET_ORDER_TAKEN,
        True,
    )
    async with session_maker() as session:
        assert await session.get(models.Order, second.order_no) is None
        assert await session.get(models.NumberAllocation, f"{second.order_no}:new-order") is None


@pytest.mark.parametrize(("code", "steps"), [path for path in PATHS if len(path[1]) > 2])
async def test_save_change_projects_each_transition_once_and_the_payout_with_it(
    session_maker: async_sessionmaker[AsyncSession], code: str, steps: tuple[str, ...]
) -> None:
    """Each transition writes only what changed; after every one (and its retry) the rows
    are exactly the state's: events, invoices, refund and its log, one ledger row."""
    activities = PersistenceActivities(session_maker)
    env = ActivityEnvironment()
    state = _new_order(code)
    slots = lifecycle.invoice_slots(state.mode)
    placed = await env.run(
        activities.record_placement, contracts.NewOrder(state=state, invoice_count=slots)
    )
    state.serial_no = placed.numbers.serial_no
    state.reserved_invoice_nos = placed.numbers.invoice_app_nos
    payouts = 0
    for step, moved in zip(steps, walk(state, steps, state.placed_at), strict=True):
        payouts += step == "payout"
        first = await env.run(activities.save_change, moved)
        retried = await env.run(activities.save_change, moved)
        assert (first.written, retried.written) == (True, False), step
        assert await _rows(session_maker, state.order_no) == _expected(moved, payouts), step
    older = state.model_copy(update={"version": state.version - 1})
    assert not (await env.run(activities.save_change, older)).written


async def _agreed_jd_order(
    session_maker: async_sessionmaker[AsyncSession], env: ActivityEnvironment
) -> OrderState:
    """A JD order projected up to 同意退款, one save a step."""
    activities = PersistenceActivities(session_maker)
    state = _new_order()
    placed = await env.run(
        activities.record_placement, contracts.NewOrder(state=state, invoice_count=2)
    )
    state.serial_no = placed.numbers.serial_no
    state.reserved_invoice_nos = placed.numbers.invoice_app_nos
    steps = ("approve", "confirm", "refund", "apply", "settle", "agree")
    for moved in walk(state, steps, state.placed_at):
        await env.run(activities.save_change, moved)
    return state


async def test_save_change_replaces_a_write_whose_workflow_task_was_lost(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """A local activity writes before its workflow task is recorded. When the worker dies in
    between, the task is redone later (other times) or takes another update first (another
    change) at the same version: the redo's write replaces the lost one, ledger included."""
    activities = PersistenceActivities(session_maker)
    env = ActivityEnvironment()
    agreed = await _agreed_jd_order(session_maker, env)
    lost = agreed.model_copy(deep=True)
    [lost_payout] = walk(lost, ["payout"], lost.placed_at + timedelta(days=3))
    await env.run(activities.save_change, lost_payout)
    assert (await _rows(session_maker, agreed.order_no))["payouts"] == 1

    redone = agreed.model_copy(deep=True)
    [payout_later] = walk(redone, ["payout"], redone.placed_at + timedelta(days=4))
    assert payout_later.version == lost_payout.version
    assert (await env.run(activities.save_change, payout_later)).written
    assert await _rows(session_maker, agreed.order_no) == _expected(payout_later, payouts=1)
    async with session_maker() as session:
        row = await session.get(models.Payout, contracts.payout_entry(payout_later).refund_id)
    assert row is not None and row.paid_at == contracts.payout_entry(payout_later).paid_at

    other = agreed.model_copy(deep=True)
    [issued] = walk(other, ["issue"], other.placed_at + timedelta(days=5))
    assert issued.version == lost_payout.version
    assert (await env.run(activities.save_change, issued)).written
    assert await _rows(session_maker, agreed.order_no) == _expected(issued, payouts=0)


async def test_send_email_retried_sends_once(
    session_maker: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(smtp_host="127.0.0.1", smtp_port=smtp_sink.port, data_dir=tmp_path)
    activities = MailActivities(session_maker, settings)
    order_no = f"BS-ZX{uuid.uuid4().int % 10**18:018d}"
    notice = Notice(
        template=Template.ORDER_RETURNED,
        to=["leiliang@example.com"],
        occasion="returned-v1",
        context={
            "order_no": order_no,
            "company": "快乐贸易有限公司",
            "shop_name": "店",
            "product_name": "E3-京东开放平台对接服务",
            "service_market_order_no": "1",
            "placed_at": "",
            "service_end_at": "",
            "service_end_date": "",
            "subtotal": "RMB 2000.00",
            "reason": "店铺名称有误",
        },
    )
    request = contracts.EmailRequest(
        key=f"{order_no}:returned-v1", order_no=order_no, notice=notice
    )
    env = ActivityEnvironment()
    first = await env.run(activities.send_email, request)
    second = await env.run(activities.send_email, request)
    assert (first.sent, second.sent, second.already_sent) == (True, False, True)
    received = smtp_sink.for_order(order_no)
    assert len(received) == 1
    assert (
        str(received[0]["Subject"]) == f"【百胜云市场】订单 {order_no} 被打回，请修改信息后重新提交"
    )
    assert "店铺名称有误" in received[0].get_body(("html",)).get_content()  # type: ignore[union-attr]
