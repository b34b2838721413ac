"""Worker variants: the real worker with one change each, to measure a fix before anyone
makes it (the bench may not change the code it measures). `python -m bench.variants NAME`
runs worker.py's main with the change applied; names combine with '+'.

- ``lean-save``: save_order writes only what changed since the row it replaces (new events
  and refund-log lines in one executemany each, invoices and refund only when different)
  instead of re-sending every child row on every transition.
- ``unsandboxed``: workflows run without the import sandbox (the sandbox's whole cost; the
  production form of this fix is passing modules through, see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner

import worker
from activities import contracts
from activities.persistence import PersistenceActivities, _order_columns
from activities.upsert import insert_for
from db import models
from domain.order import OrderState


async def _write_changes(session: AsyncSession, state: OrderState, before: dict[str, Any]) -> None:
    """What changed between the stored state ``before`` and ``state``, nothing else."""
    old_invoices = {i["invoice_app_no"]: i for i in before.get("invoices", [])}
    for invoice in state.invoices:
        data = invoice.model_dump(mode="json")
        if old_invoices.get(invoice.invoice_app_no) == data:
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
        await session.execute(
            insert_for(session, models.InvoiceApplication.__table__)  # type: ignore[arg-type]
            .values(**values)
            .on_conflict_do_update(index_elements=["invoice_app_no"], set_=values)
        )
    refund = state.refund
    old_refund = before.get("refund") or {}
    if refund is not None:
        data = refund.model_dump(mode="json")
        if data != old_refund:
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
            await session.execute(
                insert_for(session, models.Refund.__table__)  # type: ignore[arg-type]
                .values(**values)
                .on_conflict_do_update(index_elements=["refund_id"], set_=values)
            )
        logged = len(old_refund.get("log", []))
        lines = [
            {
                "refund_id": refund.refund_id,
                "seq": entry.seq,
                "at": entry.at,
                "operator": entry.operator,
                "action": entry.action,
                "amount_fen": entry.amount_fen,
                "status": entry.status.value,
            }
            for entry in refund.log[logged:]
        ]
        if lines:
            await session.execute(
                insert_for(session, models.RefundLogEntry.__table__).on_conflict_do_nothing(),  # type: ignore[arg-type]
                lines,
            )
    known = len(before.get("events", []))
    events = [
        {
            "order_no": state.order_no,
            "seq": seq,
            "at": event.at,
            "actor": event.actor,
            "action": event.action,
            "detail": event.detail,
        }
        for seq, event in enumerate(state.events[known:], start=known + 1)
    ]
    if events:
        await session.execute(
            insert_for(session, models.OrderEvent.__table__).on_conflict_do_nothing(),  # type: ignore[arg-type]
            events,
        )


class _LeanPersistence(PersistenceActivities):
    # Defined in a class so the SDK sees a method and takes its types after ``self``.
    @activity.defn(name=contracts.SAVE_ORDER)
    async def save_order(self, state: OrderState) -> contracts.SaveResult:
        async with self._sessions() as session:
            row = await session.get(models.Order, state.order_no, with_for_update=True)
            if row is None:
                raise ApplicationError(f"order {state.order_no} was never recorded")
            if row.version >= state.version:
                return contracts.SaveResult(
                    order_no=state.order_no, version=row.version, written=False
                )
            before = dict(row.state)
            for column, value in _order_columns(state).items():
                setattr(row, column, value)
            await _write_changes(session, state, before)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                async with self._sessions() as fresh:
                    await self._refuse_duplicates(fresh, state)
                raise
        activity.logger.info("projected version %d (%s)", state.version, state.status.value)
        return contracts.SaveResult(order_no=state.order_no, version=state.version, written=True)


def _lean_save() -> None:
    PersistenceActivities.save_order = _LeanPersistence.save_order  # type: ignore[method-assign,assignment]


def _unsandboxed() -> None:
    worker.Worker = functools.partial(  # type: ignore[misc,assignment]
        worker.Worker, workflow_runner=UnsandboxedWorkflowRunner()
    )


VARIANTS: dict[str, Callable[[], None]] = {
    "lean-save": _lean_save,
    "unsandboxed": _unsandboxed,
}


def command(name: str) -> list[str]:
    for part in name.split("+"):
        if part not in VARIANTS:
            raise SystemExit(f"unknown worker variant {part!r}; known: {', '.join(VARIANTS)}")
    return [sys.executable, "-m", "bench.variants", name]


if __name__ == "__main__":
    for part in sys.argv[1].split("+"):
        VARIANTS[part]()
    asyncio.run(worker.main())
