"""What must hold after a reliability run: the database agrees with each workflow, every
e-mail and payout was recorded once, and retries paused as the policy says."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from db import models
from domain.order import OrderState
from tests.reliability.driver import Expected
from tests.reliability.faults import FlakySmtp
from workflows.shop_order import ShopOrderWorkflow

# --- what must hold afterwards ------------------------------------------------------------------


@dataclass
class Checked:
    orders: int = 0
    transitions: int = 0
    mails: int = 0
    mail_duplicates: int = 0
    # (outbox key, first copy, last copy) in epoch seconds, for each e-mail delivered twice.
    duplicate_spans: list[tuple[str, float, float]] = field(default_factory=list)
    payouts: int = 0
    activity_retries: int = 0
    activity_timeouts: int = 0
    workflow_task_timeouts: int = 0
    problems: list[str] = field(default_factory=list)
    # Numbers that must be unique across every order checked, by kind.
    numbers: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def repeated_numbers(self) -> list[str]:
        """``kind number ×times`` for each number given to more than one order or payout."""
        return [
            f"{kind} {number} ×{times}"
            for kind, given in self.numbers.items()
            for number, times in Counter(given).items()
            if times > 1
        ]


async def wait_for_mail(
    sessions: async_sessionmaker[AsyncSession],
    order_nos: list[str],
    counts: dict[str, int],
    within: float,
) -> None:
    """Until every order has its e-mails sent (or ``within`` seconds passed)."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(models.OutboxMessage.order_no, func.count())
                    .where(
                        models.OutboxMessage.order_no.in_(order_nos),
                        models.OutboxMessage.status == "sent",
                    )
                    .group_by(models.OutboxMessage.order_no)
                )
            ).all()
        sent = {order_no: n for order_no, n in rows}
        if all(sent.get(no, 0) >= counts[no] for no in order_nos):
            return
        await asyncio.sleep(0.5)


async def verify(
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    smtp: FlakySmtp,
    order_no: str,
    expected: Expected,
    checked: Checked,
) -> None:
    """The database agrees with the workflow; nothing recorded or sent twice; the path ended
    where it should."""
    problems = checked.problems
    handle = temporal.get_workflow_handle(order_no)
    state: OrderState = await handle.query(ShopOrderWorkflow.state)
    checked.orders += 1
    checked.transitions += state.version

    def expect(condition: bool, what: str) -> None:
        if not condition:
            problems.append(f"{order_no}: {what}")

    expect(state.status.value == expected.status, f"status {state.status} != {expected.status}")
    expect(
        tuple(sorted(i.status.value for i in state.invoices)) == expected.invoices,
        f"invoices {[i.status.value for i in state.invoices]} != {expected.invoices}",
    )
    refund = state.refund.status.value if state.refund else None
    expect(refund == expected.refund, f"refund {refund} != {expected.refund}")
    if expected.changes is not None:
        # One version per change asked: a retried request applied twice would make two.
        expect(
            state.version == expected.changes,
            f"{state.version} versions for {expected.changes} changes asked",
        )
    if state.serial_no:
        checked.numbers["serial no"].append(state.serial_no)
    checked.numbers["invoice application no"] += [i.invoice_app_no for i in state.invoices]
    checked.numbers["invoice number"] += [
        i.invoice_number for i in state.invoices if i.invoice_number is not None
    ]

    async with sessions() as session:
        row = await session.get(models.Order, order_no)
        expect(row is not None, "no row in orders")
        if row is None:
            return
        expect(row.version == state.version, f"projection version {row.version} != {state.version}")
        expect(
            OrderState.model_validate(row.state) == state, "projected state differs from workflow"
        )
        expect(row.status == state.status.value, "projected status differs")
        placed = await session.scalar(
            select(func.count()).where(
                models.Order.service_market_order_no == state.service_market_order_no
            )
        )
        expect(placed == 1, f"{placed} orders for one placing request")
        invoices = {
            r.invoice_app_no: (r.status, r.amount_fen)
            for r in await session.scalars(
                select(models.InvoiceApplication).where(
                    models.InvoiceApplication.order_no == order_no
                )
            )
        }
        expect(
            invoices == {i.invoice_app_no: (i.status.value, i.amount_fen) for i in state.invoices},
            f"invoice rows {invoices} differ from the workflow",
        )
        events = await session.scalar(
            select(func.count()).where(models.OrderEvent.order_no == order_no)
        )
        expect(events == len(state.events), f"{events} event rows for {len(state.events)} events")
        if state.refund is not None:
            refund_row = await session.get(models.Refund, state.refund.refund_id)
            expect(
                refund_row is not None and refund_row.status == state.refund.status.value,
                "refund row differs",
            )
            log_rows = await session.scalar(
                select(func.count()).where(
                    models.RefundLogEntry.refund_id == state.refund.refund_id
                )
            )
            expect(log_rows == len(state.refund.log), "refund log rows differ from the workflow")
        payouts = list(
            await session.scalars(select(models.Payout).where(models.Payout.order_no == order_no))
        )
        expect(len(payouts) == int(expected.paid_out), f"{len(payouts)} payout rows")
        if payouts and state.refund is not None:
            checked.payouts += 1
            checked.numbers["payout bank reference"].append(payouts[0].bank_reference)
            expect(
                (payouts[0].amount_fen, payouts[0].bank_reference)
                == (state.refund.amount_fen, state.refund.bank_reference),
                "payout row differs from the refund",
            )
            paid = [e for e in state.refund.log if e.action == "已退款"]
            expect(len(paid) == 1, f"{len(paid)} 已退款 entries in the refund log")
        outbox = list(
            await session.scalars(
                select(models.OutboxMessage).where(models.OutboxMessage.order_no == order_no)
            )
        )
    templates = tuple(sorted(m.template for m in outbox))
    expect(templates == tuple(sorted(expected.mails)), f"e-mails {templates} != {expected.mails}")
    expect(all(m.status == "sent" for m in outbox), "an e-mail is not sent")
    delivered = smtp.delivered(order_no)
    keys = Counter(d.outbox_key for d in delivered)
    expect(set(keys) == {m.key for m in outbox}, f"delivered {sorted(keys)} != outbox")
    checked.mails += len(outbox)
    for key, times in keys.items():
        if times > 1:
            # SMTP has no exactly-once: a crash between the server's 250 and our commit sends
            # again. Every copy carries the outbox key's Message-ID, so receivers drop it.
            checked.mail_duplicates += times - 1
            copies = [d for d in delivered if d.outbox_key == key]
            checked.duplicate_spans.append((key, copies[0].at, copies[-1].at))
            ids = {d.message_id for d in copies}
            expect(len(ids) == 1, f"copies of {key} carry different Message-IDs {ids}")

    failed_tasks = 0
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            failed_tasks += 1
        elif event.HasField("workflow_task_timed_out_event_attributes"):
            checked.workflow_task_timeouts += 1
        elif event.HasField("activity_task_timed_out_event_attributes"):
            checked.activity_timeouts += 1
        elif event.HasField("activity_task_started_event_attributes"):
            checked.activity_retries += event.activity_task_started_event_attributes.attempt - 1
    expect(failed_tasks == 0, f"{failed_tasks} workflow task failures in history")
    if expected.run_ends:
        for _ in range(100):
            if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
                break
            await asyncio.sleep(0.2)
        status = (await handle.describe()).status
        expect(status is WorkflowExecutionStatus.COMPLETED, f"run is {status}, not completed")
    else:
        status = (await handle.describe()).status
        expect(status is WorkflowExecutionStatus.RUNNING, f"run is {status}, not running")


async def verify_all(
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    smtp: FlakySmtp,
    expected: dict[str, Expected],
    within: float,
) -> Checked:
    """Once every order's e-mails are sent (or ``within`` seconds passed), ``verify`` each."""
    counts = {order_no: len(e.mails) for order_no, e in expected.items()}
    await wait_for_mail(sessions, list(expected), counts, within)
    checked = Checked()
    for order_no, expectation in expected.items():
        await verify(temporal, sessions, smtp, order_no, expectation, checked)
    checked.problems += checked.repeated_numbers()
    return checked


async def retry_pauses(temporal: Client, order_no: str) -> list[tuple[int, float]]:
    """(attempt, pause in seconds before the next one) of each retrying activity of a run."""
    description = await temporal.get_workflow_handle(order_no).describe()
    return [
        (a.attempt, a.current_retry_interval.ToTimedelta().total_seconds())
        for a in description.raw_description.pending_activities
        if a.HasField("last_failure") and a.HasField("current_retry_interval")
    ]


def failed_attempts_logged(worker_log: Path, order_no: str, activity_type: str) -> list[float]:
    """Seconds between one failed attempt of the order's activity and the next, read from
    the worker's JSON log (local activities retry inside the worker, so the server has no
    pending activity to describe)."""
    moments = []
    for line in worker_log.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        activity = entry.get("activity") or {}
        if (
            entry.get("order_no") == order_no
            and activity.get("activity_type") == activity_type
            and str(entry.get("message", "")).startswith("Completing activity as failed")
        ):
            moments.append(datetime.fromisoformat(entry["at"]))
    return [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
