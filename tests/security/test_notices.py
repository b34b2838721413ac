"""Notices never jam.

Threat: one notice that can never be sent (a permanent SMTP refusal, a header that cannot be
built) blocks every later notice of the order forever.

Control: a permanent failure marks that notice failed, records it in the order's 操作记录,
counts it, and the next notice goes out.

A notice that can never be sent (a permanent SMTP refusal, a message that cannot be built)
is marked failed, shown in the order's 操作记录 and counted; the order's next notices still go
out. Headers built from older order data cannot carry a line break.
"""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities import contracts
from activities.mail import MailActivities, Mailer, permanent_refusal
from db import models
from devstack.processes import free_port
from domain.calendar import format_local_date
from domain.commands import ReturnOrder
from domain.lifecycle import EVENT_LABELS
from domain.notices import Notice, Template
from domain.order import OrderState
from domain.statuses import SettlementMode
from settings import Settings
from tests.support.samples import REVIEWER
from tests.support.smtp import SmtpSink
from tests.support.time_skipping import running_lifecycle
from tests.workflows.harness import Lifecycle
from workflows.shop_order import ShopOrderWorkflow

REFUSED_ADDRESS = "gone@refused.example"
# The service ends 31 days after placement: the 30-day reminder falls due a day later.
SHORT_TERM = (0, timedelta(days=31))
PAST_FIRST_REMINDER = timedelta(days=2)


class RefusingSink(SmtpSink):
    """The test SMTP server, refusing some recipients for good (550) and keeping envelopes."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = {REFUSED_ADDRESS}
        self.envelope_recipients: list[str] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        self.envelope_recipients.append(address)
        return "250 OK"


@asynccontextmanager
async def _refusing(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    staff_emails: str = "",
) -> AsyncIterator[Lifecycle]:
    sink = RefusingSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        async with running_lifecycle(
            env, sessions, sink, tmp_path, "notices", staff_emails=staff_emails
        ) as running:
            yield running
    finally:
        controller.stop()


@pytest.fixture
async def refusing_lifecycle(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[Lifecycle]:
    async with _refusing(time_skipping_env, session_maker, tmp_path) as running:
        yield running


@pytest.fixture
async def refusing_staff_lifecycle(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[Lifecycle]:
    """The reviewers' only address is refused too: their 超时 alerts fail for good."""
    staff = f"reviewer={REFUSED_ADDRESS}"
    async with _refusing(time_skipping_env, session_maker, tmp_path, staff) as running:
        yield running


async def _outbox(
    sessions: async_sessionmaker[AsyncSession], order_no: str
) -> dict[str, tuple[str, int]]:
    """occasion -> (status, attempts) of the order's e-mails."""
    async with sessions() as session:
        rows = await session.scalars(
            select(models.OutboxMessage).where(models.OutboxMessage.order_no == order_no)
        )
        return {r.key.split(":", 1)[1]: (r.status, r.attempts) for r in rows}


async def _projected_events(
    sessions: async_sessionmaker[AsyncSession], order_no: str
) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(models.OrderEvent)
            .where(models.OrderEvent.order_no == order_no)
            .order_by(models.OrderEvent.seq)
        )
        return [(r.action, r.detail) for r in rows]


async def test_send_notice_refused_for_good_is_failed_and_the_next_is_delivered(
    refusing_lifecycle: Lifecycle,
) -> None:
    lifecycle = refusing_lifecycle
    handle, state = await lifecycle.place(
        SettlementMode.INVOICE_AND_REFUND, term=SHORT_TERM, buyer_email=REFUSED_ADDRESS
    )
    order_no = state.order_no

    await lifecycle.act(handle, ReturnOrder(actor=REVIEWER, reason="店铺名称有误"))
    await lifecycle.env.sleep(PAST_FIRST_REMINDER)
    subjects = await lifecycle.mail_settled(1, order_no)

    assert subjects == [f"【百胜云市场】店铺 快乐旗舰店 的服务将于 {_end_date(state)} 到期"]
    outbox = await _outbox(lifecycle.sessions, order_no)
    assert outbox[f"returned-v{state.version + 1}"] == ("failed", 1)
    assert outbox["expiry-30d"] == ("sent", 1)
    assert outbox["deadline-30d"] == ("failed", 1)
    after = await handle.query(ShopOrderWorkflow.state)
    failed = [e for e in after.events if e.action == "notice_failed"]
    assert [e.detail.split(":")[0] for e in failed] == [
        "订单打回通知 发送失败",
        "一年期限提醒 发送失败",  # the buyer's own reminder goes to the same refused address
    ]
    assert "收件人被邮件服务器拒收" in failed[0].detail and "550" in failed[0].detail
    assert failed[0].actor == "system" and EVENT_LABELS["notice_failed"] == "通知发送失败"
    projected = await _projected_events(lifecycle.sessions, order_no)
    assert [a for a, _ in projected].count("notice_failed") == 2


async def test_staff_alert_refused_for_good_stays_out_of_the_buyers_record(
    refusing_staff_lifecycle: Lifecycle,
) -> None:
    """A failed 超时 alert may name a staff address and says the order is late: the back
    office's business, never a line of the 操作记录 the buyer reads."""
    lifecycle = refusing_staff_lifecycle
    handle, state = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.env.sleep(timedelta(days=2, hours=1))  # past the review limit (P2D)
    outbox: dict[str, tuple[str, int]] = {}
    for _ in range(200):
        outbox = await _outbox(lifecycle.sessions, state.order_no)
        if any(k.startswith("overdue-review") and v[0] == "failed" for k, v in outbox.items()):
            break
        await asyncio.sleep(0.05)
    assert [v for k, v in outbox.items() if k.startswith("overdue-review")] == [("failed", 1)]
    after = await handle.query(ShopOrderWorkflow.state)
    assert [c.flagged_at is not None for c in after.queue_clocks] == [True]
    assert not [e for e in after.events if e.action == "notice_failed"]
    projected = await _projected_events(lifecycle.sessions, state.order_no)
    assert "notice_failed" not in [a for a, _ in projected]
    assert REFUSED_ADDRESS not in str([e.detail for e in after.events])


async def test_send_notice_with_line_break_in_old_shop_name_is_sent_on_one_line(
    refusing_lifecycle: Lifecycle,
) -> None:
    lifecycle = refusing_lifecycle
    # Older data: written before the input rules refused line breaks.
    _, state = await lifecycle.place(
        SettlementMode.INVOICE_ONLY,
        term=SHORT_TERM,
        shop_name="快乐店\r\nBcc: victim@example.com",
    )

    await lifecycle.env.sleep(PAST_FIRST_REMINDER)
    await lifecycle.mail_settled(1, state.order_no)

    [reminder] = lifecycle.smtp.for_order(state.order_no)
    assert str(reminder["Subject"]) == (
        f"【百胜云市场】店铺 快乐店  Bcc: victim@example.com 的服务将于 {_end_date(state)} 到期"
    )
    assert reminder["Bcc"] is None
    assert isinstance(lifecycle.smtp, RefusingSink)
    assert "victim@example.com" not in lifecycle.smtp.envelope_recipients
    outbox = await _outbox(lifecycle.sessions, state.order_no)
    assert {status for status, _ in outbox.values()} == {"sent"}


def _end_date(state: OrderState) -> str:
    return format_local_date(state.service_end_at)


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


async def test_send_notice_that_cannot_be_built_fails_once_and_is_counted(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    port = free_port()
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}"))
    )
    env = ActivityEnvironment()
    env.metric_meter = runtime.metric_meter
    mail = MailActivities(session_maker, Settings(data_dir=tmp_path, smtp_port=free_port()))
    key = f"BS-ZX-broken-{uuid.uuid4().hex[:8]}:order_returned"
    # A template's field missing from the notice: building it again fails the same way.
    notice = Notice(
        template=Template.ORDER_RETURNED, to=["a@example.com"], occasion="x", context={}
    )
    request = contracts.EmailRequest(key=key, order_no=None, notice=notice)

    with pytest.raises(ApplicationError) as first:
        await env.run(mail.send_email, request)
    with pytest.raises(ApplicationError) as again:  # a retry after a lost answer
        await env.run(mail.send_email, request)

    assert first.value.type == contracts.NOTICE_UNDELIVERABLE and first.value.non_retryable
    assert first.value.message.startswith("邮件无法生成（KeyError")
    assert again.value.type == contracts.NOTICE_UNDELIVERABLE
    async with session_maker() as session:
        row = await session.get(models.OutboxMessage, key)
        assert row is not None and (row.status, row.attempts) == ("failed", 1)
    metrics = await asyncio.to_thread(_scrape, f"http://127.0.0.1:{port}/metrics")
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("shop_orders_notices_failed") and 'template="order_returned"' in line
    ]
    assert counted and counted[0].endswith(" 1")


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "a@x")]),
            True,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "busy", "a@x")]),
            False,
        ),
        (aiosmtplib.SMTPDataError(554, "message rejected"), True),
        (aiosmtplib.SMTPDataError(451, "try again later"), False),
        (aiosmtplib.SMTPSenderRefused(550, "not our relay", "noreply@x"), False),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False),
        (aiosmtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError(), False),
    ],
    ids=["rcpt-550", "rcpt-450", "data-554", "data-451", "sender-550", "auth-535", "gone", "down"],
)
def test_classify_smtp_failure_only_recipient_or_message_5xx_is_permanent(
    error: Exception, permanent: bool
) -> None:
    assert (permanent_refusal(error) is not None) is permanent


def test_render_notice_header_from_old_data_has_no_line_break() -> None:
    notice = Notice(
        template=Template.INVOICE_SHIPPED,
        to=["a@example.com\r\nBcc: b@example.com"],
        occasion="shipped",
        context={
            "courier": "顺丰\nX-Injected: 1",
            "tracking_no": "SF1",
            "order_no": "BS-ZX1",
            "invoice_app_no": "KP1",
            "invoice_amount": "1.00",
            "invoice_title": "t",
            "invoice_number": "1",
            "company": "c",
            "shop_name": "s",
            "product_name": "p",
            "service_market_order_no": "sm",
            "placed_at": datetime.now(UTC).isoformat(),
            "service_end_at": "",
            "service_end_date": "",
            "subtotal": "1.00",
        },
    )
    message = Mailer("百胜云市场 <noreply@mall.baison.net>").render(notice, "BS-ZX1:shipped")
    wire = message.as_string()
    assert "\nX-Injected:" not in wire and "\nBcc:" not in wire
    assert message["Subject"] == "【百胜云市场】发票已寄送（顺丰 X-Injected: 1 SF1）"
