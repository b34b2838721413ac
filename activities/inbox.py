"""我的消息: the copy of an e-mailed notice the buyer reads on the site.

Written in the transaction that first claims the e-mail's outbox row and keyed by the outbox
key, so the buyer gets it exactly once, whether the e-mail is retried, sent or never sendable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.upsert import insert_for
from domain.notices import BUYER_MESSAGE_TEMPLATES, Template


async def leave_message(
    session: AsyncSession,
    *,
    outbox_key: str,
    order_no: str | None,
    template: Template,
    title: str,
    body: str,
    now: datetime,
) -> None:
    """Add the message for the order's buyer (nothing for a notice not about a buyer's order)."""
    if order_no is None or template not in BUYER_MESSAGE_TEMPLATES:
        return
    buyer = await session.scalar(
        select(models.Order.buyer).where(models.Order.order_no == order_no)
    )
    if buyer is None:
        return
    await session.execute(
        insert_for(session, models.Message.__table__)  # type: ignore[arg-type]
        .values(
            buyer=buyer,
            outbox_key=outbox_key,
            order_no=order_no,
            title=title[:300],
            body=body,
            created_at=now,
            read_at=None,
        )
        .on_conflict_do_nothing(index_elements=["buyer", "outbox_key"])
    )
