"""Read queries of the address book (收货地址)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.queries import MAX_ROW_ID


async def addresses(session: AsyncSession, *, buyer: str) -> list[models.Address]:
    """The buyer's addresses, the default first, then the newest."""
    return list(
        await session.scalars(
            select(models.Address)
            .where(models.Address.buyer == buyer)
            .order_by(models.Address.is_default.desc(), models.Address.id.desc())
        )
    )


async def address(session: AsyncSession, *, buyer: str, address_id: int) -> models.Address | None:
    """The buyer's address; another buyer's is as absent as a missing one."""
    if not 0 < address_id <= MAX_ROW_ID:
        return None
    return await session.scalar(
        select(models.Address).where(models.Address.buyer == buyer, models.Address.id == address_id)
    )
