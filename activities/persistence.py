"""Writes of the projection. Every one is idempotent: activities run at least once.

A transition writes only what it changed (the order row, new events and refund-log lines,
the invoices and refund that differ), compared with the stored state it replaces.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import contracts
from activities.payouts import keep_in_ledger
from db import models
from db.upsert import insert_for
from domain import ids
from domain.order import PAYMENT_METHOD, OrderState
from domain.statuses import OrderStatus, RefundStatus

TRANSACTION_COUNTER = "transaction"
INVOICE_APP_COUNTER = "invoice_app"


def order_columns(state: OrderState) -> dict[str, Any]:
    """The orders row of ``state``, as the projection writes it (the bench bulk-loads with it)."""
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


# A concurrent placement can take the same counter value first; the loser tries again.
ALLOCATION_ATTEMPTS = 5


def _numbers_request(state: OrderState, invoice_count: int) -> contracts.AllocateNumbers:
    return contracts.AllocateNumbers(
        key=f"{state.order_no}:new-order",
        placed_at=state.placed_at,
        invoice_count=invoice_count,
    )


async def _write_changes(session: AsyncSession, state: OrderState, before: dict[str, Any]) -> None:
    """Bring the order's child rows from the stored state ``before`` ({} for a new order) to
    ``state``, touching only what differs: usually new events and refund-log lines and the
    invoices or refund that changed. Anything else that differs is replaced too: a write
    whose workflow task was lost (a local activity runs before its task is recorded) is
    superseded by the one that redid it, with its own times, at the same version."""
    old_invoices = {i["invoice_app_no"]: i for i in before.get("invoices", [])}
    for invoice in state.invoices:
        data = invoice.model_dump(mode="json")
        if old_invoices.pop(invoice.invoice_app_no, None) == data:
            continue
        values = {
            "invoice_app_no": invoice.invoice_app_no,
            "order_no": state.order_no,
            "buyer": state.buyer,
            "status": invoice.status.value,
            "amount_fen": invoice.amount_fen,
            "invoice_number": invoice.invoice_number,
            "created_at": invoice.created_at,
            "data": data,
        }
        await _upsert(session, models.InvoiceApplication, "invoice_app_no", values)
    if old_invoices:  # only a superseded write had them
        await session.execute(
            delete(models.InvoiceApplication).where(
                models.InvoiceApplication.invoice_app_no.in_(old_invoices)
            )
        )
    await _write_refund(session, state, before.get("refund") or {})
    await _write_ledger(session, state, before.get("refund") or {})
    await _write_sequence(
        session,
        models.OrderEvent,
        {"order_no": state.order_no},
        before.get("events", []),
        [event.model_dump(mode="json") for event in state.events],
        [
            {"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in state.events
        ],
    )


async def _write_refund(session: AsyncSession, state: OrderState, old: dict[str, Any]) -> None:
    refund = state.refund
    if refund is None:
        if old:  # only a superseded write had it
            await session.execute(
                delete(models.RefundLogEntry).where(
                    models.RefundLogEntry.refund_id == old["refund_id"]
                )
            )
            await session.execute(
                delete(models.Refund).where(models.Refund.refund_id == old["refund_id"])
            )
        return
    data = refund.model_dump(mode="json")
    if data != old:
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
            "data": data,
        }
        await _upsert(session, models.Refund, "refund_id", values)
    same_refund = old.get("refund_id") == refund.refund_id
    await _write_sequence(
        session,
        models.RefundLogEntry,
        {"refund_id": refund.refund_id},
        old.get("log", []) if same_refund else [],
        [entry.model_dump(mode="json") for entry in refund.log],
        [
            {
                "seq": entry.seq,
                "at": entry.at,
                "operator": entry.operator,
                "action": entry.action,
                "amount_fen": entry.amount_fen,
                "status": entry.status.value,
            }
            for entry in refund.log
        ],
    )


async def _write_ledger(session: AsyncSession, state: OrderState, old: dict[str, Any]) -> None:
    """The payout ledger follows the refund: one row from the moment it is paid out."""
    refund = state.refund
    paid = refund is not None and refund.status is RefundStatus.REFUNDED
    if paid and refund is not None and refund.model_dump(mode="json") != old:
        await keep_in_ledger(session, contracts.payout_entry(state))
    elif not paid and old.get("status") == RefundStatus.REFUNDED.value:
        # Only a superseded write paid it out.
        await session.execute(
            delete(models.Payout).where(models.Payout.refund_id == old["refund_id"])
        )


async def _upsert(
    session: AsyncSession, model: type[models.Base], key: str, values: dict[str, Any]
) -> None:
    """Insert the row, or make the row with the same ``key`` say ``values``."""
    await session.execute(
        insert_for(session, model.__table__)  # type: ignore[arg-type]
        .values(**values)
        .on_conflict_do_update(index_elements=[key], set_=values)
    )


async def _write_sequence(
    session: AsyncSession,
    model: type[models.Base],
    owner: dict[str, str],
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    rows: list[dict[str, Any]],
) -> None:
    """A numbered list of rows (events, refund-log lines) that normally only grows: write
    from the first entry that differs from the stored one, drop any the state no longer has.
    ``new`` is the entries as stored in the state JSON, ``rows`` their columns."""
    table = model.__table__
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    if len(old) > len(new):
        await session.execute(
            table.delete().where(  # type: ignore[attr-defined]
                *(table.c[k] == v for k, v in owner.items()),  # type: ignore[attr-defined]
                table.c.seq > len(new),  # type: ignore[attr-defined]
            )
        )
    changed = [owner | {"seq": seq} | row for seq, row in enumerate(rows, start=1)][same:]
    if not changed:
        return
    statement = insert_for(session, table)  # type: ignore[arg-type]
    columns = [c for c in changed[0] if c not in (*owner, "seq")]
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[*owner, "seq"],
            set_={c: statement.excluded[c] for c in columns},
        ),
        changed,
    )


class PersistenceActivities:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_maker

    # --- the activities ------------------------------------------------------------

    @activity.defn(name=contracts.RECORD_PLACEMENT)
    async def record_placement(self, new: contracts.NewOrder) -> contracts.Placement:
        """Number the new order and record it, in one transaction: its 交易流水号 and
        开票编号s, the order, its transaction and first event. A retry gets the same numbers;
        a second live order for the same service-market order number, or a reused placement
        key, is refused (and takes no numbers)."""
        state = new.state
        request = _numbers_request(state, new.invoice_count)
        for _attempt in range(ALLOCATION_ATTEMPTS):
            try:
                async with self._transaction(state) as session:
                    numbers = await self._allocate(session, request)
                    numbered = state.model_copy(
                        update={
                            "serial_no": numbers.serial_no,
                            "reserved_invoice_nos": list(numbers.invoice_app_nos),
                        }
                    )
                    written = await self._insert_order(session, numbered)
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
        async with self._transaction(state) as session:
            row = await session.get(models.Order, state.order_no, with_for_update=True)
            if row is None:
                raise ApplicationError(f"order {state.order_no} was never recorded")
            before: dict[str, Any] = row.state
            if row.version > state.version or (
                row.version == state.version and before == state.model_dump(mode="json")
            ):
                return contracts.SaveResult(
                    order_no=state.order_no, version=row.version, written=False
                )
            for column, value in order_columns(state).items():
                setattr(row, column, value)
            await _write_changes(session, state, before)
        activity.logger.info("projected version %d (%s)", state.version, state.status.value)
        return contracts.SaveResult(order_no=state.order_no, version=state.version, written=True)

    # --- within one transaction ----------------------------------------------------

    async def _allocate(
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

    async def _insert_order(self, session: AsyncSession, state: OrderState) -> bool:
        """Add the new order with its transaction and children; False when it is there."""
        if await session.get(models.Order, state.order_no) is not None:
            return False
        await self._refuse_duplicates(session, state)
        session.add(models.Order(**order_columns(state)))
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
        await _write_changes(session, state, before={})
        return True

    @contextlib.asynccontextmanager
    async def _transaction(self, state: OrderState) -> AsyncIterator[AsyncSession]:
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
