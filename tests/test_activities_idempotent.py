"""Activities run at least once: a retried call must change nothing more."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities import contracts
from activities.mail import MailActivities
from activities.payouts import PayoutActivities
from activities.persistence import PersistenceActivities
from db import models
from domain.notices import Notice, Template
from settings import Settings
from tests.lifecycle_harness import SmtpSink


async def test_allocate_numbers_retried_returns_the_same_numbers(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    activities = PersistenceActivities(session_maker)
    request = contracts.AllocateNumbers(
        key=f"BS-ZX-{uuid.uuid4()}:new-order", placed_at=datetime.now(UTC), invoice_count=2
    )
    env = ActivityEnvironment()
    first = await env.run(activities.allocate_numbers, request)
    second = await env.run(activities.allocate_numbers, request)
    assert first == second
    assert len(first.invoice_app_nos) == 2 and first.invoice_app_nos[0] != first.invoice_app_nos[1]


async def test_allocate_numbers_gives_each_order_its_own_serial(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    activities = PersistenceActivities(session_maker)
    env = ActivityEnvironment()
    now = datetime.now(UTC)
    a = await env.run(
        activities.allocate_numbers,
        contracts.AllocateNumbers(key=f"a-{uuid.uuid4()}", placed_at=now, invoice_count=1),
    )
    b = await env.run(
        activities.allocate_numbers,
        contracts.AllocateNumbers(key=f"b-{uuid.uuid4()}", placed_at=now, invoice_count=1),
    )
    assert int(b.serial_no) == int(a.serial_no) + 1
    assert a.invoice_app_nos != b.invoice_app_nos


async def test_record_payout_retried_writes_one_ledger_row(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    activities = PayoutActivities(session_maker)
    refund_id = f"TK{uuid.uuid4().int % 10**18:018d}"
    entry = contracts.PayoutEntry(
        refund_id=refund_id,
        order_no="BS-ZX" + refund_id[2:],
        amount_fen=100_000,
        bank_reference="ICBC1",
        paid_at=datetime.now(UTC),
        confirmed_by="finance",
    )
    env = ActivityEnvironment()
    assert await env.run(activities.record_payout, entry) is True
    assert await env.run(activities.record_payout, entry) is False
    async with session_maker() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(models.Payout)
            .where(models.Payout.refund_id == refund_id)
        )
    assert rows == 1


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
