"""The back office's work queues and their time limits (DOMAIN.md "Back-office work queues").

Each piece of back-office work an order holds (its review, its refund's review or payout, an
invoice to issue or ship) is an open item of one queue. The order's state keeps a clock per
open item: when it entered the queue and when its time limit runs out. The workflow's timer
wakes at the earliest limit; an item past it is flagged 超时 (overdue) and its queue's staff
are e-mailed once. An item that leaves its queue loses its clock, so coming back (an order
returned and resubmitted) is a new stage with a clock of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from domain.calendar import format_local
from domain.notices import Notice, Template, order_context
from domain.order import OrderState, QueueClock, QueueLimits
from domain.statuses import InvoiceStatus, OrderStatus, RefundStatus, Role


class Queue(StrEnum):
    REVIEW = "review"
    REFUND_REVIEW = "refund_review"
    PAYOUT = "payout"
    INVOICE_ISSUE = "invoice_issue"
    INVOICE_SHIP = "invoice_ship"

    @property
    def label(self) -> str:
        return QUEUE_LABELS[self]

    @property
    def staff(self) -> Role:
        """Whose work the queue is: who is e-mailed when one of its items runs late."""
        return Role.FINANCE if self is Queue.PAYOUT else Role.REVIEWER

    def limit(self, limits: QueueLimits) -> timedelta:
        return getattr(limits, self.value)  # type: ignore[no-any-return]


QUEUE_LABELS = {
    Queue.REVIEW: "待审核",
    Queue.REFUND_REVIEW: "待审核退款",
    Queue.PAYOUT: "待打款",
    Queue.INVOICE_ISSUE: "待开票",
    Queue.INVOICE_SHIP: "待寄送",
}
OVERDUE_LABEL = "超时"
# How the staff e-mail greets its readers.
STAFF_LABELS = {Role.REVIEWER: "审核人员", Role.FINANCE: "财务人员"}


class QueueItem(BaseModel):
    """One open item as the back office sees it."""

    queue: Queue
    item_id: str
    since: datetime
    due: datetime
    overdue: bool


def open_work(state: OrderState) -> list[tuple[Queue, str]]:
    """(queue, item id) of every piece of back-office work the order holds now."""
    work: list[tuple[Queue, str]] = []
    if state.status is OrderStatus.SUBMITTED:
        work.append((Queue.REVIEW, state.order_no))
    refund = state.refund
    if refund is not None:
        # A refund is reviewable only once the platform settlement is recorded.
        if refund.status is RefundStatus.APPLIED and state.settled:
            work.append((Queue.REFUND_REVIEW, refund.refund_id))
        elif refund.status is RefundStatus.AGREED:
            work.append((Queue.PAYOUT, refund.refund_id))
    for invoice in state.invoices:
        if invoice.status is InvoiceStatus.APPLIED:
            work.append((Queue.INVOICE_ISSUE, invoice.invoice_app_no))
        elif invoice.status is InvoiceStatus.ISSUED:
            work.append((Queue.INVOICE_SHIP, invoice.invoice_app_no))
    return work


def track(state: OrderState, now: datetime) -> None:
    """Bring the clocks in line with the work the order holds at ``now``: work that left its
    queue loses its clock, new work (or work back again) gets one starting now."""
    work = open_work(state)
    kept = [c for c in state.queue_clocks if (Queue(c.queue), c.item_id) in work]
    clocked = {(Queue(c.queue), c.item_id) for c in kept}
    for queue, item_id in work:
        if (queue, item_id) not in clocked:
            limit = queue.limit(state.queue_limits)
            kept.append(QueueClock(queue=queue.value, item_id=item_id, since=now, due=now + limit))
    state.queue_clocks = kept


def next_due(state: OrderState) -> datetime | None:
    """When the earliest limit not yet flagged runs out; None when nothing waits."""
    return min((c.due for c in state.queue_clocks if c.flagged_at is None), default=None)


def flag_overdue(state: OrderState, now: datetime) -> list[Notice]:
    """Flag every item past its limit by ``now`` (once per stage) and the staff e-mail of each."""
    notices: list[Notice] = []
    for clock in state.queue_clocks:
        if clock.flagged_at is None and clock.due <= now:
            clock.flagged_at = now
            notices.append(overdue_notice(state, clock))
    if notices:
        state.version += 1
    return notices


def overdue_notice(state: OrderState, clock: QueueClock) -> Notice:
    """The e-mail to the queue's staff; its occasion names the stage (queue, item and when it
    began), so it is sent once however often the activity runs, and again after a re-entry."""
    queue = Queue(clock.queue)
    return Notice(
        template=Template.STAFF_OVERDUE,
        to=[],
        staff=queue.staff,
        occasion=f"overdue-{queue.value}-{clock.item_id}-{clock.since:%Y%m%d%H%M%S%f}",
        context=order_context(state)
        | {
            "queue_label": queue.label,
            "staff_label": STAFF_LABELS[queue.staff],
            "item_id": clock.item_id,
            "since": format_local(clock.since),
            "due": format_local(clock.due),
            "limit": describe_limit(clock.due - clock.since),
        },
    )


def items(state: OrderState) -> list[QueueItem]:
    """The order's open items with their clocks (work not yet clocked shows no item)."""
    return [
        QueueItem(
            queue=Queue(c.queue),
            item_id=c.item_id,
            since=c.since,
            due=c.due,
            overdue=c.flagged_at is not None,
        )
        for c in state.queue_clocks
    ]


def is_overdue(state: OrderState, item_id: str) -> bool:
    """Whether the open item ``item_id`` (order number, refund id or 开票编号) is flagged."""
    return any(c.item_id == item_id and c.flagged_at is not None for c in state.queue_clocks)


def describe_limit(limit: timedelta) -> str:
    """A limit as people read it: 2天, 3小时, 1天12小时, 10分钟."""
    days, rest = limit.days, limit.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else ""]
    parts.append(f"{minutes}分钟" if minutes else "")
    text = "".join(parts)
    return text or f"{limit.seconds}秒"
