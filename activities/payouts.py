"""The payout ledger: finance's record of money sent, one row per refund, written with
the refund's projection in one transaction (activities/persistence.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from activities import contracts
from db import models
from db.upsert import insert_for


async def keep_in_ledger(session: AsyncSession, entry: contracts.PayoutEntry) -> None:
    """Make the refund's ledger row say ``entry`` (within the caller's transaction)."""
    values = entry.model_dump()
    await session.execute(
        insert_for(session, models.Payout.__table__)  # type: ignore[arg-type]
        .values(**values, recorded_at=datetime.now(UTC))
        .on_conflict_do_update(index_elements=["refund_id"], set_=values)
    )
