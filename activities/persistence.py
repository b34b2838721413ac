"""Writes of the projection. Every one is idempotent: activities run at least once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import contracts
from activities.upsert import insert_for
from db import models
from domain import ids
from domain.order import PAYMENT_METHOD, OrderState
from domain.statuses import OrderStatus

TRANSACTION_COUNTER = "transaction"
INVOICE_APP_COUNTER = "invoice_app"


def _order_columns(state: OrderState) -> dict[str, Any]:
    return {
        "order_no": state.order_no,
        "buyer": state.buyer,
        "status": state.status.value,
        "platform": state.product.platform.value,
        "product_line": state.product.line,
        "product_code": state.product.code,
        "shop_name": state.shop_name,
        "service_market_order_no": state.service_market_order_no,
        "placement_key": state.placement_key,
        "refund_status": state.refund.status.value if state.refund else None,
        "invoice_status": (s.value if (s := state.invoice_status_summary) else None),
        "subtotal_fen": state.subtotal_fen,
        "placed_at": state.placed_at,
        "service_end_at": state.service_end_at,
        "version": state.version,
        "state": state.model_dump(mode="json"),
        "updated_at": datetime.now(UTC),
    }


class PersistenceActivities:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_maker

    @activity.defn(name=contracts.ALLOCATE_NUMBERS)
    async def allocate_numbers(
        self, request: contracts.AllocateNumbers
    ) -> contracts.AllocatedNumbers:
        """Next 交易流水号 of the day and the next 开票编号s; a retry gets the same numbers."""
        for _attempt in range(5):
            async with self._sessions() as session:
                existing = await session.get(models.NumberAllocation, request.key)
                if existing is not None:
                    return contracts.AllocatedNumbers.model_validate(existing.numbers[0])
                period = ids.serial_period(request.placed_at)
                serial = await self._advance(session, TRANSACTION_COUNTER, period, 1)
                last_invoice = await self._advance(
                    session, INVOICE_APP_COUNTER, "", request.invoice_count
                )
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
                try:
                    await session.commit()
                    return numbers
                except IntegrityError:
                    await session.rollback()  # a concurrent attempt won: read its numbers
        raise ApplicationError(f"could not allocate numbers for {request.key}")

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

    @activity.defn(name=contracts.RECORD_NEW_ORDER)
    async def record_new_order(self, state: OrderState) -> contracts.SaveResult:
        """The order, its transaction and first event; refuses a second live order for the
        same service-market order number and a reused placement key."""
        async with self._sessions() as session:
            if await session.get(models.Order, state.order_no) is not None:
                return contracts.SaveResult(
                    order_no=state.order_no, version=state.version, written=False
                )
            await self._refuse_duplicates(session, state)
            session.add(models.Order(**_order_columns(state)))
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
            await self._write_children(session, state)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                async with self._sessions() as fresh:
                    await self._refuse_duplicates(fresh, state)
                raise
        activity.logger.info("recorded new order, transaction %s", state.serial_no)
        return contracts.SaveResult(order_no=state.order_no, version=state.version, written=True)

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
                f"service-market order {state.service_market_order_no} already backs a live order",
                type=contracts.SERVICE_MARKET_ORDER_TAKEN,
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

    @activity.defn(name=contracts.SAVE_ORDER)
    async def save_order(self, state: OrderState) -> contracts.SaveResult:
        """Project a newer state; an older or equal version (a retried write) changes nothing."""
        async with self._sessions() as session:
            row = await session.get(models.Order, state.order_no, with_for_update=True)
            if row is None:
                raise ApplicationError(f"order {state.order_no} was never recorded")
            if row.version >= state.version:
                return contracts.SaveResult(
                    order_no=state.order_no, version=row.version, written=False
                )
            for column, value in _order_columns(state).items():
                setattr(row, column, value)
            await self._write_children(session, state)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                async with self._sessions() as fresh:
                    await self._refuse_duplicates(fresh, state)
                raise
        activity.logger.info("projected version %d (%s)", state.version, state.status.value)
        return contracts.SaveResult(order_no=state.order_no, version=state.version, written=True)

    @staticmethod
    async def _write_children(session: AsyncSession, state: OrderState) -> None:
        """Invoices and refund are replaced by their current form; log and events only grow."""
        for invoice in state.invoices:
            values = {
                "invoice_app_no": invoice.invoice_app_no,
                "order_no": state.order_no,
                "buyer": state.buyer,
                "status": invoice.status.value,
                "amount_fen": invoice.amount_fen,
                "invoice_number": invoice.invoice_number,
                "created_at": invoice.created_at,
                "data": invoice.model_dump(mode="json"),
            }
            await session.execute(
                insert_for(session, models.InvoiceApplication.__table__)  # type: ignore[arg-type]
                .values(**values)
                .on_conflict_do_update(index_elements=["invoice_app_no"], set_=values)
            )
        refund = state.refund
        if refund is not None:
            values = {
                "refund_id": refund.refund_id,
                "order_no": state.order_no,
                "buyer": state.buyer,
                "status": refund.status.value,
                "amount_fen": refund.amount_fen,
                "platform": state.product.platform.value,
                "shop_name": state.shop_name,
                "service_market_order_no": state.service_market_order_no,
                "applied_at": refund.applied_at,
                "data": refund.model_dump(mode="json"),
            }
            await session.execute(
                insert_for(session, models.Refund.__table__)  # type: ignore[arg-type]
                .values(**values)
                .on_conflict_do_update(index_elements=["refund_id"], set_=values)
            )
            for entry in refund.log:
                await session.execute(
                    insert_for(session, models.RefundLogEntry.__table__)  # type: ignore[arg-type]
                    .values(
                        refund_id=refund.refund_id,
                        seq=entry.seq,
                        at=entry.at,
                        operator=entry.operator,
                        action=entry.action,
                        amount_fen=entry.amount_fen,
                        status=entry.status.value,
                    )
                    .on_conflict_do_nothing()
                )
        for seq, event in enumerate(state.events, start=1):
            await session.execute(
                insert_for(session, models.OrderEvent.__table__)  # type: ignore[arg-type]
                .values(
                    order_no=state.order_no,
                    seq=seq,
                    at=event.at,
                    actor=event.actor,
                    action=event.action,
                    detail=event.detail,
                )
                .on_conflict_do_nothing()
            )
