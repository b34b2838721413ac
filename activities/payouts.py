"""The payout ledger: finance's record of money sent, one row per refund, written once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities import contracts
from activities.upsert import insert_for
from db import models


async def add_to_ledger(session: AsyncSession, entry: contracts.PayoutEntry) -> bool:
    """Add the refund's ledger row within the caller's transaction; False when it was there."""
    result = await session.execute(
        insert_for(session, models.Payout.__table__)  # type: ignore[arg-type]
        .values(**entry.model_dump(), recorded_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["refund_id"])
    )
    # An INSERT … ON CONFLICT DO NOTHING reports 0 rows when the row was there.
    return bool(getattr(result, "rowcount", 0))


async def keep_in_ledger(session: AsyncSession, entry: contracts.PayoutEntry) -> None:
    """Make the refund's ledger row say ``entry`` (within the caller's transaction)."""
    values = entry.model_dump()
    await session.execute(
        insert_for(session, models.Payout.__table__)  # type: ignore[arg-type]
        .values(**values, recorded_at=datetime.now(UTC))
        .on_conflict_do_update(index_elements=["refund_id"], set_=values)
    )


class PayoutActivities:
    """The ledger as an activity of its own, for runs started before the payout's ledger row
    was written in the same transaction as its order (activities/persistence.py)."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_maker

    @activity.defn(name=contracts.RECORD_PAYOUT)
    async def record_payout(self, entry: contracts.PayoutEntry) -> bool:
        """True when this call wrote the row; a retry finds it there and writes nothing."""
        async with self._sessions() as session:
            written = await add_to_ledger(session, entry)
            await session.commit()
        if written:
            activity.logger.info("payout of refund %s recorded in the ledger", entry.refund_id)
        return written
