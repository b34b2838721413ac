"""The back office's work queues (DOMAIN.md "Back-office work queues"): how many items each
holds and how many are past their time limit, read from the projection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from db import queries
from domain.queues import Queue

# Where the back office lists each queue's items.
QUEUE_LINKS = {
    Queue.REVIEW: "/admin/orders?status=submitted",
    Queue.REFUND_REVIEW: "/admin/refunds?status=applied",
    Queue.PAYOUT: "/admin/refunds?status=agreed",
    Queue.INVOICE_ISSUE: "/admin/invoices?status=applied",
    Queue.INVOICE_SHIP: "/admin/invoices?status=issued",
}


async def queue_counts(session: AsyncSession) -> list[schemas.QueueOut]:
    """Every queue, in the order the work flows, with its count and overdue count."""
    counts = await queries.queue_counts(session)
    return [
        schemas.QueueOut(
            queue=queue.value,
            label=queue.label,
            count=counts.get(queue.value, (0, 0))[0],
            overdue=counts.get(queue.value, (0, 0))[1],
        )
        for queue in Queue
    ]
