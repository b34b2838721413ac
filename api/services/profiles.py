"""Invoice profiles (发票信息): a buyer's saved invoice details.

Written here, by the API, directly: a profile is plain buyer data that no workflow owns
(an order keeps its own snapshot of the profile it was placed with), unlike order data,
which only the workflow's activities write.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import not_found
from db import models, queries
from domain.inputs import InvoiceProfileInput
from domain.order import InvoiceProfileSnapshot
from domain.statuses import InvoiceType


def snapshot(profile: models.InvoiceProfile) -> InvoiceProfileSnapshot:
    """What an order keeps of the profile it was placed with."""
    return InvoiceProfileSnapshot(
        profile_id=profile.id,
        invoice_type=InvoiceType(profile.invoice_type),
        title=profile.title,
        taxpayer_id=profile.taxpayer_id,
        recipient_name=profile.recipient_name,
        recipient_mobile=profile.recipient_mobile,
        recipient_address=profile.recipient_address,
    )


async def create(
    *, session: AsyncSession, owner: str, data: InvoiceProfileInput
) -> models.InvoiceProfile:
    now = datetime.now(UTC)
    profile = models.InvoiceProfile(
        owner=owner, created_at=now, updated_at=now, **data.model_dump(mode="json")
    )
    session.add(profile)
    await session.commit()
    return profile


async def _owned(session: AsyncSession, *, owner: str, profile_id: int) -> models.InvoiceProfile:
    profile = await queries.profile(session, owner=owner, profile_id=profile_id)
    if profile is None:
        raise not_found("发票信息", profile_id)
    return profile


async def replace(
    *, session: AsyncSession, owner: str, profile_id: int, data: InvoiceProfileInput
) -> models.InvoiceProfile:
    profile = await _owned(session, owner=owner, profile_id=profile_id)
    for field, value in data.model_dump(mode="json").items():
        setattr(profile, field, value)
    profile.updated_at = datetime.now(UTC)
    await session.commit()
    return profile


async def delete(*, session: AsyncSession, owner: str, profile_id: int) -> None:
    await session.delete(await _owned(session, owner=owner, profile_id=profile_id))
    await session.commit()
