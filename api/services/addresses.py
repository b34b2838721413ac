"""收货地址: a buyer's address book, and the consignee snapshot an order keeps.

Written here, by the API, directly, like the invoice profiles: an address is plain buyer
data no workflow owns. Exactly one address is the default whenever the buyer has any: the
first one is, marking another unmarks it, and deleting it hands the mark to the newest left.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import not_found
from db import addresses as address_queries
from db import models
from domain.inputs import AddressInput, ConsigneeInput
from domain.order import ConsigneeSnapshot


def snapshot(address: models.Address) -> ConsigneeSnapshot:
    """What an order keeps of the saved address it was placed with."""
    return ConsigneeSnapshot(
        address_id=address.id,
        name=address.name,
        mobile=address.mobile,
        phone=address.phone,
        postcode=address.postcode,
        address=address.address,
    )


def typed_snapshot(consignee: ConsigneeInput) -> ConsigneeSnapshot:
    """What an order keeps of a consignee typed at the checkout."""
    return ConsigneeSnapshot(**consignee.model_dump())


async def _unmark_all(session: AsyncSession, *, buyer: str) -> None:
    """Clears the buyer's default mark. Called before another address takes it, in the same
    transaction: the database holds one default per buyer at every statement."""
    await session.execute(
        update(models.Address)
        .where(models.Address.buyer == buyer, models.Address.is_default.is_(True))
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )


def _fill(address: models.Address, data: AddressInput) -> None:
    for field, value in data.model_dump(exclude={"is_default"}).items():
        setattr(address, field, value)


async def create(*, session: AsyncSession, buyer: str, data: AddressInput) -> models.Address:
    first = not await address_queries.addresses(session, buyer=buyer)
    if data.is_default and not first:
        await _unmark_all(session, buyer=buyer)
    address = models.Address(
        buyer=buyer, is_default=data.is_default or first, created_at=datetime.now(UTC)
    )
    _fill(address, data)
    session.add(address)
    await session.commit()
    return address


async def owned(session: AsyncSession, *, buyer: str, address_id: int) -> models.Address:
    address = await address_queries.address(session, buyer=buyer, address_id=address_id)
    if address is None:
        raise not_found("收货地址", address_id)
    return address


async def replace(
    *, session: AsyncSession, buyer: str, address_id: int, data: AddressInput
) -> models.Address:
    """The fields given replace the address's. ``is_default: false`` on the default keeps
    it the default: the mark moves only by marking another."""
    address = await owned(session, buyer=buyer, address_id=address_id)
    if data.is_default and not address.is_default:
        await _unmark_all(session, buyer=buyer)
        address.is_default = True
    _fill(address, data)
    await session.commit()
    return address


async def make_default(*, session: AsyncSession, buyer: str, address_id: int) -> models.Address:
    address = await owned(session, buyer=buyer, address_id=address_id)
    if not address.is_default:
        await _unmark_all(session, buyer=buyer)
        address.is_default = True
    await session.commit()
    return address


async def delete(*, session: AsyncSession, buyer: str, address_id: int) -> None:
    address = await owned(session, buyer=buyer, address_id=address_id)
    was_default = address.is_default
    await session.delete(address)
    await session.flush()
    if was_default:
        left = await address_queries.addresses(session, buyer=buyer)
        if left:
            max(left, key=lambda a: (a.created_at, a.id)).is_default = True
    await session.commit()
