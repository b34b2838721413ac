"""Keyset pages of the order list: each starts right after the last order of the page
before, orders placed at the same moment included, and lists what offset pages list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.projection import order_columns
from db import models, queries
from domain.order import Actor
from domain.statuses import Tab
from tests.support.orders import new_order, product


async def test_keyset_pages_walk_orders_placed_at_the_same_moment_once_each(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    buyer = Actor(username=f"keyset-{uuid.uuid4().hex[:8]}", role="buyer", company="翻页公司")
    moments = [datetime(2026, 5, 1, 8, 0, tzinfo=UTC), datetime(2026, 5, 2, 8, 0, tzinfo=UTC)]
    # Five orders share the later moment, two the earlier: pages of two split the ties.
    states = [
        new_order(
            product("JD0001"),
            order_no=f"BS-K{uuid.uuid4().hex[:12]}",
            placed_at=moments[0] if n < 2 else moments[1],
            tag=uuid.uuid4().hex[:10],
            buyer=buyer,
        )
        for n in range(7)
    ]
    rows = [order_columns(s) for s in states]
    filters = queries.OrderFilter(buyer=buyer.username)
    async with session_maker() as session:
        await session.execute(insert(models.Order).values(rows))
        by_offset = []
        for number in range(1, 5):
            found = await queries.orders_page(
                session, filters=filters, tab=Tab.ALL, page=queries.Page(number, 2)
            )
            by_offset += [s.order_no for s in found.items]

        by_keyset, after, pages = [], None, 0
        while True:
            found = await queries.orders_page(
                session, filters=filters, tab=Tab.ALL, page=queries.Page(size=2, after=after)
            )
            by_keyset += [s.order_no for s in found.items]
            pages += 1
            if len(found.items) < 2:
                break
            after = found.last
        await session.rollback()

    newest_first = sorted(states, key=lambda s: (s.placed_at, s.order_no), reverse=True)
    assert by_keyset == by_offset == [s.order_no for s in newest_first]
    assert pages == 4 and len(set(by_keyset)) == 7
