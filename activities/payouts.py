"""The payout ledger: finance's record of money sent, one row per refund, written once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities import contracts
from activities.upsert import insert_for
from db import models


class PayoutActivities:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_maker

    @activity.defn(name=contracts.RECORD_PAYOUT)
    async def record_payout(self, entry: contracts.PayoutEntry) -> bool:
        """True when this call wrote the row; a retry finds it there and writes nothing."""
        async with self._sessions() as session:
            result = await session.execute(
                insert_for(session, models.Payout.__table__)  # type: ignore[arg-type]
                .values(**entry.model_dump(), recorded_at=datetime.now(UTC))
                .on_conflict_do_nothing(index_elements=["refund_id"])
            )
            await session.commit()
            # An INSERT … ON CONFLICT DO NOTHING reports 0 rows when the row was there.
            written = bool(getattr(result, "rowcount", 0))
        if written:
            activity.logger.info("payout of refund %s recorded in the ledger", entry.refund_id)
        return written
