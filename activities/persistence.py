"""Writes of the projection. Every one is idempotent: activities run at least once.

A transition writes only what it changed (the order row, new events and refund-log lines,
the invoices and refund that differ), compared with the stored state it replaces.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import contracts
from activities.projection import order_columns, write_changes
from db import models
from db.upsert import insert_for
from domain import ids
from domain.order import PAYMENT_METHOD, OrderState
from domain.statuses import OrderStatus

TRANSACTION_COUNTER = "transaction"
INVOICE_APP_COUNTER = "invoice_app"


ALLOCATION_ATTEMPTS = 5


def numbers_request(state: OrderState, invoice_count: int) -> contracts.AllocateNumbers:
    return contracts.AllocateNumbers(
        key=f"{state.order_no}:new-order",
        placed_at=state.placed_at,
        invoice_count=invoice_count,
    )


class PersistenceActivities:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_maker

    # --- the activities ------------------------------------------------------------

    @activity.defn(name=contracts.RECORD_PLACEMENT)
    async def record_placement(self, new: contracts.NewOrder) -> contracts.Placement:
        """Number the new order, then record it: its 交易流水号 and 开票编号s in a short
        transaction of their own, then the order, its transaction and first event. A retry
        gets the same numbers; a second live order for the same service-market order number,
        or a reused placement key, is refused (and takes no numbers).

        The counters are rows every placement updates: numbered in their own transaction,
        their locks are held for two statements, not for the whole order's write, so
        placements on PostgreSQL do not queue behind each other (make bench). The price: a
        duplicate that only shows when the order is written (two placements of the same
        service-market order at the same moment) leaves a gap in the numbers."""
        state = new.state
        request = numbers_request(state, new.invoice_count)
        for _attempt in range(ALLOCATION_ATTEMPTS):
            try:
                async with self.transaction(state) as session:
                    await self._refuse_duplicates(session, state)
                    numbers = await self.allocate(session, request)
                async with self.transaction(state) as session:
                    numbered = state.model_copy(
                        update={
                            "serial_no": numbers.serial_no,
                            "reserved_invoice_nos": list(numbers.invoice_app_nos),
                        }
                    )
                    written = await self.insert_order(session, numbered)
            except IntegrityError:
                continue  # a concurrent placement took the same counter value first
            if written:
                activity.logger.info("recorded new order, transaction %s", numbers.serial_no)
            return contracts.Placement(numbers=numbers, written=written)
        raise ApplicationError(f"could not record new order {state.order_no}")

    @activity.defn(name=contracts.SAVE_CHANGE)
    async def save_change(self, state: OrderState) -> contracts.SaveResult:
        """Project the state, a payout's ledger row included. An older version, or the same
        state again (a retried write), changes nothing; the same version with another state
        replaces a write whose workflow task was lost (see _write_changes)."""
        async with self.transaction(state) as session:
            row = await session.get(models.Order, state.order_no, with_for_update=True)
            if row is None:
                raise ApplicationError(f"order {state.order_no} was never recorded")
            before: dict[str, Any] = row.state
            # Dumped once: compared with the stored state, stored, and compared part by part.
            after = state.model_dump(mode="json")
            if row.version > state.version or (row.version == state.version and before == after):
                return contracts.SaveResult(
                    order_no=state.order_no, version=row.version, written=False
                )
            for column, value in order_columns(state, after).items():
                setattr(row, column, value)
            await write_changes(session, state, before, after)
        activity.logger.info("projected version %d (%s)", state.version, state.status.value)
        return contracts.SaveResult(order_no=state.order_no, version=state.version, written=True)

    # --- within one transaction ----------------------------------------------------

    async def allocate(
        self, session: AsyncSession, request: contracts.AllocateNumbers
    ) -> contracts.AllocatedNumbers:
        """The numbers allocated under ``request.key``, allocating them when there are none."""
        existing = await session.get(models.NumberAllocation, request.key)
        if existing is not None:
            return contracts.AllocatedNumbers.model_validate(existing.numbers[0])
        period = ids.serial_period(request.placed_at)
        serial = await self._advance(session, TRANSACTION_COUNTER, period, 1)
        last_invoice = await self._advance(session, INVOICE_APP_COUNTER, "", request.invoice_count)
        first_invoice = last_invoice - request.invoice_count + 1
        numbers = contracts.AllocatedNumbers(
            serial_no=ids.serial_no(period, serial),
            invoice_app_nos=[
                ids.invoice_app_no(request.placed_at, n)
                for n in range(first_invoice, last_invoice + 1)
            ],
        )
        session.add(
            models.NumberAllocation(
                key=request.key,
                numbers=[numbers.model_dump(mode="json")],
                created_at=datetime.now(UTC),
            )
        )
        return numbers

    @staticmethod
    async def _advance(session: AsyncSession, name: str, period: str, by: int) -> int:
        """Add ``by`` to a counter and return its new value, creating it at ``by``."""
        table = models.Counter.__table__
        statement = (
            insert_for(session, table)  # type: ignore[arg-type]
            .values(name=name, period=period, value=by)
            .on_conflict_do_update(
                index_elements=["name", "period"], set_={"value": table.c.value + by}
            )
            .returning(table.c.value)
        )
        return int((await session.execute(statement)).scalar_one())

    async def insert_order(self, session: AsyncSession, state: OrderState) -> bool:
        """Add the new order with its transaction and children; False when it is there."""
        if await session.get(models.Order, state.order_no) is not None:
            return False
        await self._refuse_duplicates(session, state)
        data = state.model_dump(mode="json")
        session.add(models.Order(**order_columns(state, data)))
        session.add(
            models.Transaction(
                serial_no=state.serial_no,
                order_no=state.order_no,
                product_code=state.product.code,
                standard_fen=state.standard_fen,
                paid_here_fen=0,
                discount_fen=state.discount_fen,
                subtotal_fen=state.subtotal_fen,
                payment_method=PAYMENT_METHOD,
                created_at=state.placed_at,
            )
        )
        await session.flush()  # the children reference the order row
        await write_changes(session, state, before={}, after=data)
        return True

    @contextlib.asynccontextmanager
    async def transaction(self, state: OrderState) -> AsyncIterator[AsyncSession]:
        """A session committed when the block ends. A unique-index conflict rolls it back
        and raises the refusal of the duplicate order it reveals (not worth retrying), or
        else the IntegrityError (a concurrent write: worth another attempt)."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except IntegrityError:
                await session.rollback()
                async with self._sessions() as fresh:
                    await self._refuse_duplicates(fresh, state)
                raise

    @staticmethod
    async def _refuse_duplicates(session: AsyncSession, state: OrderState) -> None:
        live = await session.scalar(
            select(models.Order.order_no).where(
                models.Order.service_market_order_no == state.service_market_order_no,
                models.Order.status != OrderStatus.VOIDED.value,
                models.Order.order_no != state.order_no,
            )
        )
        if live is not None:
            raise ApplicationError(
                f"服务市场订单号 {state.service_market_order_no} 已有进行中的订单 {live}",
                type=contracts.SERVICE_MARKET_ORDER_TAKEN,
                non_retryable=True,
            )
        numbers = {i.invoice_number: i.invoice_app_no for i in state.invoices if i.invoice_number}
        if numbers:
            taken = (
                await session.execute(
                    select(
                        models.InvoiceApplication.invoice_number,
                        models.InvoiceApplication.invoice_app_no,
                    ).where(
                        models.InvoiceApplication.invoice_number.in_(numbers),
                        models.InvoiceApplication.order_no != state.order_no,
                    )
                )
            ).first()
            if taken is not None:
                number, elsewhere = str(taken[0]), taken[1]
                raise ApplicationError(
                    f"发票号 {number} 已登记在开票申请 {elsewhere} 上，"
                    f"不能再用于开票申请 {numbers[number]}",
                    type=contracts.INVOICE_NUMBER_TAKEN,
                    non_retryable=True,
                )
        if state.placement_key:
            earlier = await session.scalar(
                select(models.Order.order_no).where(
                    models.Order.buyer == state.buyer,
                    models.Order.placement_key == state.placement_key,
                    models.Order.order_no != state.order_no,
                )
            )
            if earlier is not None:
                raise ApplicationError(
                    f"placement key already used by order {earlier}",
                    type=contracts.PLACEMENT_KEY_TAKEN,
                    non_retryable=True,
                )
