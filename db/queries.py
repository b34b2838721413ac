"""Read queries of the projection (the API's only way to look at data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from domain.statuses import IN_PROGRESS_STATUSES, REFUNDING_STATUSES, OrderStatus, Tab


@dataclass(frozen=True)
class Page:
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class OrderFilter:
    buyer: str | None = None
    order_no: str | None = None
    service_market_order_no: str | None = None
    platform: str | None = None
    shop_name: str | None = None
    invoice_no: str | None = None
    invoice_status: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


TAB_CONDITIONS: dict[Tab, Any] = {
    Tab.ALL: None,
    Tab.IN_PROGRESS: models.Order.status.in_([s.value for s in IN_PROGRESS_STATUSES]),
    Tab.COMPLETED: models.Order.status == OrderStatus.COMPLETED.value,
    Tab.FAILED: models.Order.status == OrderStatus.VOIDED.value,
    Tab.REFUNDING: models.Order.refund_status.in_([s.value for s in REFUNDING_STATUSES]),
}


def _filtered(query: Select[Any], f: OrderFilter) -> Select[Any]:
    order = models.Order
    if f.buyer is not None:
        query = query.where(order.buyer == f.buyer)
    if f.order_no:
        query = query.where(order.order_no == f.order_no.strip())
    if f.service_market_order_no:
        query = query.where(order.service_market_order_no == f.service_market_order_no.strip())
    if f.platform:
        query = query.where(order.platform == f.platform)
    if f.shop_name:
        query = query.where(order.shop_name.contains(f.shop_name.strip(), autoescape=True))
    if f.invoice_no or f.invoice_status:
        invoices = select(models.InvoiceApplication.order_no)
        if f.invoice_no:
            number = f.invoice_no.strip()
            invoices = invoices.where(
                or_(
                    models.InvoiceApplication.invoice_app_no == number,
                    models.InvoiceApplication.invoice_number == number,
                )
            )
        if f.invoice_status:
            invoices = invoices.where(models.InvoiceApplication.status == f.invoice_status)
        query = query.where(order.order_no.in_(invoices))
    if f.placed_from:
        query = query.where(order.placed_at >= f.placed_from)
    if f.placed_to:
        query = query.where(order.placed_at <= f.placed_to)
    return query


async def orders_page(
    session: AsyncSession, f: OrderFilter, tab: Tab, page: Page
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    """States of one page of orders (newest first), the total, and the count of every tab."""
    base = _filtered(select(models.Order.state), f)
    condition = TAB_CONDITIONS[tab]
    listed = base if condition is None else base.where(condition)
    rows = await session.scalars(
        listed.order_by(models.Order.placed_at.desc(), models.Order.order_no.desc())
        .offset(page.offset)
        .limit(page.page_size)
    )
    counts_query = _filtered(
        select(
            *[
                func.coalesce(func.sum(case((cond, 1), else_=0)), 0) if cond is not None else func.count()
                for cond in TAB_CONDITIONS.values()
            ]
        ).select_from(models.Order),
        f,
    )
    counts = (await session.execute(counts_query)).one()
    tab_counts = {t.value: int(n) for t, n in zip(TAB_CONDITIONS, counts, strict=True)}
    return list(rows), tab_counts[tab.value], tab_counts


async def order_state(session: AsyncSession, order_no: str) -> dict[str, Any] | None:
    return await session.scalar(select(models.Order.state).where(models.Order.order_no == order_no))


async def live_order_for_service_market_no(
    session: AsyncSession, service_market_order_no: str, *, excluding: str | None = None
) -> str | None:
    query = select(models.Order.order_no).where(
        models.Order.service_market_order_no == service_market_order_no,
        models.Order.status != OrderStatus.VOIDED.value,
    )
    if excluding:
        query = query.where(models.Order.order_no != excluding)
    return await session.scalar(query)


async def order_for_placement_key(session: AsyncSession, buyer: str, key: str) -> dict[str, Any] | None:
    return await session.scalar(
        select(models.Order.state).where(models.Order.buyer == buyer, models.Order.placement_key == key)
    )


@dataclass(frozen=True)
class RefundFilter:
    buyer: str | None = None
    order_no: str | None = None
    service_market_order_no: str | None = None
    shop_name: str | None = None
    platform: str | None = None
    status: str | None = None
    applied_from: datetime | None = None
    applied_to: datetime | None = None


async def refunds_page(session: AsyncSession, f: RefundFilter, page: Page) -> tuple[list[dict[str, Any]], int]:
    """Order states of the refunds matching ``f``, newest application first."""
    refund = models.Refund
    query = select(models.Order.state).join(refund, refund.order_no == models.Order.order_no)
    if f.buyer is not None:
        query = query.where(refund.buyer == f.buyer)
    if f.order_no:
        query = query.where(refund.order_no == f.order_no.strip())
    if f.service_market_order_no:
        query = query.where(refund.service_market_order_no == f.service_market_order_no.strip())
    if f.shop_name:
        query = query.where(refund.shop_name.contains(f.shop_name.strip(), autoescape=True))
    if f.platform:
        query = query.where(refund.platform == f.platform)
    if f.status:
        query = query.where(refund.status == f.status)
    if f.applied_from:
        query = query.where(refund.applied_at >= f.applied_from)
    if f.applied_to:
        query = query.where(refund.applied_at <= f.applied_to)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(refund.applied_at.desc().nulls_last(), refund.refund_id.desc())
        .offset(page.offset)
        .limit(page.page_size)
    )
    return list(rows), int(total or 0)


async def refund_order_state(session: AsyncSession, refund_id: str) -> dict[str, Any] | None:
    return await session.scalar(
        select(models.Order.state)
        .join(models.Refund, models.Refund.order_no == models.Order.order_no)
        .where(models.Refund.refund_id == refund_id)
    )


async def invoices_page(
    session: AsyncSession, *, buyer: str | None, order_no: str | None, status: str | None, page: Page
) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """(invoice application number, its order's state) for one page, newest first."""
    invoice = models.InvoiceApplication
    query = select(invoice.invoice_app_no, models.Order.state).join(
        models.Order, models.Order.order_no == invoice.order_no
    )
    if buyer is not None:
        query = query.where(invoice.buyer == buyer)
    if order_no:
        query = query.where(invoice.order_no == order_no.strip())
    if status:
        query = query.where(invoice.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(invoice.created_at.desc(), invoice.invoice_app_no.desc())
        .offset(page.offset)
        .limit(page.page_size)
    )
    return [(no, state) for no, state in rows.all()], int(total or 0)


async def invoice_order_state(session: AsyncSession, invoice_app_no: str) -> dict[str, Any] | None:
    return await session.scalar(
        select(models.Order.state)
        .join(models.InvoiceApplication, models.InvoiceApplication.order_no == models.Order.order_no)
        .where(models.InvoiceApplication.invoice_app_no == invoice_app_no)
    )


async def payouts(session: AsyncSession, page: Page | None) -> tuple[list[models.Payout], int]:
    query = select(models.Payout).order_by(models.Payout.paid_at.desc(), models.Payout.refund_id)
    total = await session.scalar(select(func.count()).select_from(models.Payout))
    if page is not None:
        query = query.offset(page.offset).limit(page.page_size)
    return list(await session.scalars(query)), int(total or 0)


async def products(session: AsyncSession, *, line: str | None, platform: str | None) -> list[dict[str, Any]]:
    query = select(models.Product.data).where(models.Product.active.is_(True))
    if line:
        query = query.where(models.Product.line == line)
    if platform:
        query = query.where(models.Product.platform == platform)
    return list(await session.scalars(query.order_by(models.Product.sort_order, models.Product.code)))


async def product(session: AsyncSession, code: str) -> dict[str, Any] | None:
    return await session.scalar(
        select(models.Product.data).where(models.Product.code == code, models.Product.active.is_(True))
    )


async def user(session: AsyncSession, username: str) -> models.User | None:
    return await session.scalar(select(models.User).where(models.User.username == username))


async def profiles(session: AsyncSession, owner: str) -> list[models.InvoiceProfile]:
    return list(
        await session.scalars(
            select(models.InvoiceProfile).where(models.InvoiceProfile.owner == owner).order_by(models.InvoiceProfile.id)
        )
    )


async def profile(session: AsyncSession, owner: str, profile_id: int) -> models.InvoiceProfile | None:
    return await session.scalar(
        select(models.InvoiceProfile).where(
            models.InvoiceProfile.owner == owner, models.InvoiceProfile.id == profile_id
        )
    )


async def outbox(session: AsyncSession, limit: int = 200) -> list[models.OutboxMessage]:
    return list(await session.scalars(select(models.OutboxMessage).order_by(models.OutboxMessage.created_at.desc()).limit(limit)))
