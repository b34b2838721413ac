"""The daily digest: its Temporal Schedule made once however often workers start, and the
e-mails it sends (finance: payouts due with a CSV and yesterday's paid total; reviewers: the
queue counts), once per Beijing day."""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import contracts
from db import models
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from devstack.processes import free_port
from domain.digest import DUE_CSV_HEADERS, beijing_day, day_bounds
from domain.order import BankCardRef, Refund
from domain.statuses import RefundStatus
from settings import Settings
from tests.support.databases import create_database, drop_database
from tests.support.keys import TEST_PAYLOAD_KEYS
from tests.support.smtp import SmtpSink
from worker import SANDBOXED, build_worker
from workflows.digest import DailyDigestWorkflow, DigestOutcome
from workflows.schedules import DIGEST_TIME_ZONE, ensure_digest_schedule

FINANCE = "finance@baison.example"
REVIEWER = "reviewer@baison.example"


@pytest.fixture
async def digest_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database of its own (the digest reads every row of some tables), migrated: a
    scratch database on TEST_DATABASE_URL's server when set, else SQLite."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        url, name = await create_database(server_url, "digest_")
    else:
        url, name = f"sqlite+aiosqlite:///{tmp_path / 'digest.db'}", ""
    await upgrade_to_head(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()
    if server_url:
        await drop_database(server_url, name)


def _refund(refund_id: str, amount_fen: int, status: RefundStatus, agreed_at: datetime) -> Refund:
    return Refund(
        refund_id=refund_id,
        amount_fen=amount_fen,
        status=status,
        account_name="=快乐贸易有限公司",  # a would-be formula, shown as text in the CSV
        bank="中国工商银行",
        branch="杭州分行",
        card=BankCardRef(card_ref="ab" * 16, card_no_masked="6222 **** **** 1234"),
        agreed_at=agreed_at,
    )


async def _seed(sessions: async_sessionmaker[AsyncSession], today: date) -> None:
    """Two refunds agreed (one past its payout limit), one only applied; payouts paid
    yesterday, today and the day before; open work in two queues."""
    start, _ = day_bounds(today)
    agreed_at = start - timedelta(days=4)
    rows: list[models.Base] = []
    for no, (amount, status) in enumerate(
        [
            (100_000, RefundStatus.AGREED),
            (52_050, RefundStatus.AGREED),
            (7_000, RefundStatus.APPLIED),
        ]
    ):
        refund = _refund(f"TK0000000000000000{no}", amount, status, agreed_at)
        rows.append(
            models.Refund(
                refund_id=refund.refund_id,
                order_no=f"BS-ZX2026000000000000{no}",
                buyer="leiliang",
                status=status.value,
                amount_fen=amount,
                platform="jd",
                shop_name="快乐旗舰店",
                service_market_order_no=f"SM{no}",
                applied_at=agreed_at + timedelta(minutes=no),
                data=refund.model_dump(mode="json"),
            )
        )
    paid = [(start - timedelta(hours=1), 30_000), (start - timedelta(hours=23), 45_000)]
    paid += [(start + timedelta(hours=1), 99_900), (start - timedelta(days=1, hours=1), 11_100)]
    for n, (paid_at, amount) in enumerate(paid):
        rows.append(
            models.Payout(
                refund_id=f"TK9{n:019d}",
                order_no=f"BS-ZX2026999999999999{n}",
                amount_fen=amount,
                bank_reference=f"ICBC{n}",
                paid_at=paid_at,
                confirmed_by="finance",
                recorded_at=paid_at,
            )
        )
    work = [
        ("payout", "TK00000000000000000", True),
        ("payout", "TK00000000000000001", False),
        ("review", "BS-ZX20260000000000005", True),
        ("review", "BS-ZX20260000000000006", False),
        ("invoice_issue", "KP_202611_00000007", False),
    ]
    for queue, item_id, overdue in work:
        rows.append(
            models.QueueItem(
                queue=queue,
                item_id=item_id,
                order_no="BS-ZX20260000000000009",
                since=agreed_at,
                due_at=agreed_at + timedelta(days=3),
                overdue=overdue,
            )
        )
    async with sessions() as session:
        session.add_all(rows)
        await session.commit()


@pytest.fixture
async def digest_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


async def test_digest_emails_finance_the_payouts_due_and_reviewers_the_queues_once_a_day(
    dev_server: WorkflowEnvironment,
    digest_sessions: async_sessionmaker[AsyncSession],
    digest_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    # The dev server's clock is the real one: the time-skipping server may leap ahead (years)
    # while nothing waits on a timer, and the digest's day is the clock's.
    env = dev_server
    today = beijing_day(datetime.now(UTC))
    await _seed(digest_sessions, today)
    settings = Settings(
        environment="development",
        smtp_host="127.0.0.1",
        smtp_port=digest_sink.port,
        data_dir=tmp_path,
        payload_keys=TEST_PAYLOAD_KEYS,
        staff_emails=f"reviewer={REVIEWER};finance={FINANCE}",
    )
    task_queue = f"digest-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, settings, digest_sessions, task_queue, SANDBOXED):
        first: DigestOutcome = await env.client.execute_workflow(
            DailyDigestWorkflow.run,
            id=f"daily-digest-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        # The schedule run again the same day (or a retried activity): nothing sent twice.
        again: DigestOutcome = await env.client.execute_workflow(
            DailyDigestWorkflow.run,
            id=f"daily-digest-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
    assert (first.day, first.finance, first.reviewers) == (today, "sent", "sent")
    assert (again.day, again.finance, again.reviewers) == (today, "already sent", "already sent")
    assert len(digest_sink.messages) == 2
    by_to = {str(m["To"]): m for m in digest_sink.messages}

    finance = by_to[FINANCE]
    assert str(finance["Subject"]) == (
        f"【bmp后台】{today.isoformat()} 财务日报：待打款 2 笔（RMB 1520.50），昨日已打款 RMB 750.00"
    )
    body = str(finance.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "昨日（" in body and "已打款 2 笔，合计 RMB 750.00" in body and "其中超时 1 笔" in body
    [attachment] = list(finance.iter_attachments())
    assert attachment.get_filename() == f"待打款-{today.isoformat()}.csv"
    raw = attachment.get_content()
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(text)))
    assert tuple(table[0]) == DUE_CSV_HEADERS
    assert [(r[0], r[3], r[6], r[7], r[9]) for r in table[1:]] == [
        ("TK00000000000000000", "'=快乐贸易有限公司", "6222 **** **** 1234", "1000.00", "超时"),
        ("TK00000000000000001", "'=快乐贸易有限公司", "6222 **** **** 1234", "520.50", ""),
    ]

    reviewers = by_to[REVIEWER]
    assert (
        str(reviewers["Subject"])
        == f"【bmp后台】{today.isoformat()} 审核日报：待办 5 项，超时 2 项"
    )
    lines = str(reviewers.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "- 待审核：2 项，超时 1 项" in lines and "- 待打款：2 项，超时 1 项" in lines
    assert "- 待开票：1 项，超时 0 项" in lines and "- 待寄送：0 项，超时 0 项" in lines
    assert reviewers.get_body(("html",)) is not None


async def test_digest_schedule_is_made_once_however_often_workers_start(
    dev_server: WorkflowEnvironment,
) -> None:
    client = dev_server.client
    schedule_id = f"daily-digest-{uuid.uuid4().hex[:8]}"
    assert await ensure_digest_schedule(client, "shop-orders", schedule_id) is True
    handle = client.get_schedule_handle(schedule_id)
    try:
        await handle.pause(note="ops paused it")
        # A second worker starting (or the same one restarting) finds it and leaves it one.
        assert await ensure_digest_schedule(client, "other-queue", schedule_id) is False
        same = [s.id async for s in await client.list_schedules() if s.id == schedule_id]
        assert same == [schedule_id]
        described = (await handle.describe()).schedule
        assert described.spec.time_zone_name == DIGEST_TIME_ZONE
        # The server keeps the cron expression as the calendar it means: 09:00:00 daily.
        [daily] = described.spec.calendars
        assert [(r.start, r.end) for r in (*daily.hour, *daily.minute, *daily.second)] == [
            (9, 9),
            (0, 0),
            (0, 0),
        ]
        assert [(r.start, r.end) for r in daily.day_of_week] == [(0, 6)]
        action = described.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("DailyDigestWorkflow", "other-queue")
        assert described.state.paused  # what ops decided stays decided
    finally:
        await handle.delete()


@activity.defn(name=contracts.SEND_FINANCE_DIGEST)
async def finance_down(day: contracts.DigestDay) -> contracts.EmailResult:
    raise ApplicationError("SMTP 服务器无法连接", non_retryable=True)


@activity.defn(name=contracts.SEND_REVIEWER_DIGEST)
async def reviewers_sent(day: contracts.DigestDay) -> contracts.EmailResult:
    return contracts.EmailResult(key=f"digest:{day.day}", sent=True, already_sent=False)


async def test_a_digest_out_of_retries_does_not_hold_back_the_other(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Finance's digest fails for good (SMTP down past its retries): the reviewers' still goes,
    and the run's result says which failed, for ops in the Temporal UI."""
    queue = f"digest-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[DailyDigestWorkflow],
        activities=[finance_down, reviewers_sent],
        workflow_runner=SANDBOXED,
    ):
        outcome = await time_skipping_env.client.execute_workflow(
            DailyDigestWorkflow.run,
            id=f"digest-{uuid.uuid4()}",
            task_queue=queue,
        )
    assert outcome.finance.startswith("failed: ") and "SMTP 服务器无法连接" in outcome.finance
    assert outcome.reviewers == "sent"
