"""The daily digest's activities: read what waits on finance and the reviewers from the
projection and e-mail it, once per day (the outbox key names the day, so a retried activity
or a schedule run again for the same day sends nothing twice)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities import contracts
from activities.mail import MailActivities
from db import models, queries
from domain import digest
from domain.notices import Notice
from domain.order import Refund
from domain.queues import Queue
from domain.statuses import RefundStatus


class DigestActivities:
    def __init__(
        self, session_maker: async_sessionmaker[AsyncSession], mail: MailActivities
    ) -> None:
        self._sessions = session_maker
        self._mail = mail

    @activity.defn(name=contracts.SEND_FINANCE_DIGEST)
    async def send_finance_digest(self, request: contracts.DigestDay) -> contracts.EmailResult:
        async with self._sessions() as session:
            due = await payouts_due(session)
            paid_fen, paid_count = await paid_on(session, digest.day_bounds_before(request.day))
        notice = digest.finance_digest(request.day, due, paid_fen, paid_count)
        return await self._mail.deliver(_request(notice))

    @activity.defn(name=contracts.SEND_REVIEWER_DIGEST)
    async def send_reviewer_digest(self, request: contracts.DigestDay) -> contracts.EmailResult:
        async with self._sessions() as session:
            counts = await queue_counts(session)
        return await self._mail.deliver(_request(digest.reviewer_digest(request.day, counts)))


def _request(notice: Notice) -> contracts.EmailRequest:
    return contracts.EmailRequest(key=f"digest:{notice.occasion}", order_no=None, notice=notice)


async def payouts_due(session: AsyncSession) -> list[digest.PayoutDue]:
    """Every refund agreed and not yet paid, the longest waiting first."""
    rows = await session.execute(
        select(models.Refund.order_no, models.Refund.shop_name, models.Refund.data)
        .where(models.Refund.status == RefundStatus.AGREED.value)
        .order_by(models.Refund.applied_at, models.Refund.refund_id)
    )
    overdue = set(
        await session.scalars(
            select(models.QueueItem.item_id).where(
                models.QueueItem.queue == Queue.PAYOUT.value, models.QueueItem.overdue.is_(True)
            )
        )
    )
    due = []
    for order_no, shop_name, data in rows.all():
        refund = Refund.model_validate(data)
        due.append(
            digest.PayoutDue(
                refund_id=refund.refund_id,
                order_no=order_no,
                shop_name=shop_name,
                account_name=refund.account_name,
                bank=refund.bank,
                branch=refund.branch,
                card_no_masked=refund.card.card_no_masked if refund.card else "",
                amount_fen=refund.amount_fen,
                agreed_at=refund.agreed_at,
                overdue=refund.refund_id in overdue,
            )
        )
    return due


async def paid_on(session: AsyncSession, bounds: digest.Bounds) -> tuple[int, int]:
    """(total fen, count) the payout ledger recorded paid within ``bounds``."""
    start, end = bounds
    total, count = (
        await session.execute(
            select(func.coalesce(func.sum(models.Payout.amount_fen), 0), func.count()).where(
                models.Payout.paid_at >= start, models.Payout.paid_at < end
            )
        )
    ).one()
    return int(total), int(count)


async def queue_counts(session: AsyncSession) -> list[digest.QueueCount]:
    """Every queue with its open items and how many are past the limit (as the API counts)."""
    counts = await queries.queue_counts(session)
    return [
        digest.QueueCount(queue=q, count=counts.get(q, (0, 0))[0], overdue=counts.get(q, (0, 0))[1])
        for q in Queue
    ]
