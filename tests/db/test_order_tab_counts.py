"""The order counts the database keeps per (buyer, platform, status, refund status) agree
with the order rows through every kind of write, and the lists' tab counts read from them
equal the counts of the rows themselves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models, queries
from db.upsert import insert_for


def _order(buyer: str, status: str, refund_status: str | None = None, platform: str = "jd") -> dict:
    now = datetime.now(UTC)
    return {
        "order_no": f"BS-T{uuid.uuid4().hex[:12]}",
        "buyer": buyer,
        "status": status,
        "platform": platform,
        "product_line": "E3",
        "product_code": "JD0001",
        "shop_name": "计数旗舰店",
        "service_market_order_no": f"SM{uuid.uuid4().hex[:12]}",
        "refund_status": refund_status,
        "subtotal_fen": 100,
        "placed_at": now - timedelta(days=1),
        "service_end_at": now,
        "version": 1,
        "state": {},
        "updated_at": now,
    }


async def _kept(session: AsyncSession, buyer: str) -> dict[tuple[str, str, str | None], int]:
    counted = models.OrderTabCount
    rows = await session.execute(
        select(counted.platform, counted.status, counted.refund_status, func.sum(counted.n))
        .where(counted.buyer == buyer)
        .group_by(counted.platform, counted.status, counted.refund_status)
        .having(func.sum(counted.n) != 0)
    )
    return {(p, s, r or None): int(n) for p, s, r, n in rows.all()}


async def _count_as_written(session: AsyncSession) -> None:
    """PostgreSQL counts at commit (a deferred trigger); these tests roll back instead, so
    they have it count at each write, as it does at commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


async def _counted(session: AsyncSession, buyer: str) -> dict[tuple[str, str, str | None], int]:
    order = models.Order
    rows = await session.execute(
        select(order.platform, order.status, order.refund_status, func.count())
        .where(order.buyer == buyer)
        .group_by(order.platform, order.status, order.refund_status)
    )
    return {(p, s, r): n for p, s, r, n in rows.all()}


async def test_kept_counts_follow_inserts_upserts_updates_and_deletes(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    buyer = f"counts-{uuid.uuid4().hex[:8]}"
    rows = [
        _order(buyer, "submitted"),
        _order(buyer, "submitted"),
        _order(buyer, "completed", "applied"),
        _order(buyer, "approved", platform="taobao"),
    ]
    async with session_maker() as session:
        await _count_as_written(session)
        await session.execute(insert(models.Order).values(rows))
        assert await _kept(session, buyer) == await _counted(session, buyer)
        assert (await _kept(session, buyer))[("jd", "submitted", None)] == 2

        # The projection's write: the same order again, moved on (ON CONFLICT DO UPDATE).
        moved = rows[0] | {"status": "approved", "version": 2}
        statement = insert_for(session, models.Order.__table__).values(moved)  # type: ignore[arg-type]
        await session.execute(
            statement.on_conflict_do_update(index_elements=["order_no"], set_=moved)
        )
        # A refund returned for correction, and a write that changes no counted column.
        await session.execute(
            update(models.Order)
            .where(models.Order.order_no == rows[2]["order_no"])
            .values(refund_status="changes_requested")
        )
        await session.execute(
            update(models.Order)
            .where(models.Order.order_no == rows[3]["order_no"])
            .values(version=5)
        )
        await session.execute(
            delete(models.Order).where(models.Order.order_no == rows[1]["order_no"])
        )

        kept = await _kept(session, buyer)
        assert kept == await _counted(session, buyer)
        assert kept == {
            ("jd", "approved", None): 1,
            ("jd", "completed", "changes_requested"): 1,
            ("taobao", "approved", None): 1,
        }
        await session.rollback()


async def test_tab_counts_from_kept_counts_equal_those_of_the_rows(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    buyer = f"tabs-{uuid.uuid4().hex[:8]}"
    rows = [
        _order(buyer, "submitted"),
        _order(buyer, "returned"),
        _order(buyer, "voided"),
        _order(buyer, "completed"),
        _order(buyer, "completed", "agreed"),
        _order(buyer, "completed", "refunded", platform="taobao"),
    ]
    long_ago = datetime.now(UTC) - timedelta(days=3650)
    async with session_maker() as session:
        await _count_as_written(session)
        await session.execute(insert(models.Order).values(rows))
        for platform in (None, "jd", "taobao"):
            scoped = queries.OrderFilter(buyer=buyer, platform=platform)
            # A date filter the kept counts are not keyed by: the rows are counted instead.
            by_rows = queries.OrderFilter(buyer=buyer, platform=platform, placed_from=long_ago)
            kept = await queries.order_tab_counts(session, scoped)
            assert kept == await queries.order_tab_counts(session, by_rows), platform
        everything = await queries.order_tab_counts(session, queries.OrderFilter(buyer=buyer))
        assert everything == {
            "all": 6,
            "in_progress": 2,
            "completed": 3,
            "failed": 1,
            "refunding": 1,
        }
        await session.rollback()


async def test_kept_counts_change_with_the_commit_of_the_write(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    buyer = f"commit-{uuid.uuid4().hex[:8]}"
    rows = [_order(buyer, "submitted"), _order(buyer, "submitted")]
    numbers = [row["order_no"] for row in rows]
    async with session_maker() as session:
        await session.execute(insert(models.Order).values(rows))
        await session.commit()
    async with session_maker() as session:
        assert await _kept(session, buyer) == {("jd", "submitted", None): 2}
        # Gone again at once: other tests list every buyer's orders.
        await session.execute(delete(models.Order).where(models.Order.order_no.in_(numbers)))
        await session.commit()
    async with session_maker() as session:
        assert await _kept(session, buyer) == {}
