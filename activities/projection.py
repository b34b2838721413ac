"""What a state change writes, row by row: the order row, and only the child rows (events,
invoices, the refund and its log, the payout ledger) that differ from the stored state it
replaces. Called inside the persistence activities' transactions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from activities import contracts
from activities.payouts import keep_in_ledger
from db import models
from db.upsert import insert_for
from domain import queues
from domain.order import OrderState
from domain.statuses import RefundStatus


def order_columns(state: OrderState, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The orders row of ``state``, as the projection writes it (the bench bulk-loads with it);
    ``data`` is ``state`` already dumped to JSON, when the caller has it."""
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
        "app_key": state.app_key,
        "refund_status": state.refund.status.value if state.refund else None,
        "invoice_status": (s.value if (s := state.invoice_status_summary) else None),
        "subtotal_fen": state.subtotal_fen,
        "placed_at": state.placed_at,
        "service_end_at": state.service_end_at,
        "version": state.version,
        "state": data if data is not None else state.model_dump(mode="json"),
        "updated_at": datetime.now(UTC),
    }


# A concurrent placement can take the same counter value first; the loser tries again.
async def write_changes(
    session: AsyncSession, state: OrderState, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Bring the order's child rows from the stored state ``before`` ({} for a new order) to
    ``state``, touching only what differs: usually new events and refund-log lines and the
    invoices or refund that changed. Anything else that differs is replaced too: a write
    whose workflow task was lost (a local activity runs before its task is recorded) is
    superseded by the one that redid it, with its own times, at the same version.

    ``after`` is ``state`` dumped to JSON (what the order row stores): its parts are compared
    with ``before``'s, so nothing of the state is dumped again."""
    old_invoices = {i["invoice_app_no"]: i for i in before.get("invoices", [])}
    for invoice, data in zip(state.invoices, after["invoices"], strict=True):
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
    await _write_queue_items(session, state, before.get("queue_clocks", []), after["queue_clocks"])
    await _write_refund(session, state, before.get("refund") or {}, after["refund"] or {})
    await _write_ledger(session, state, before.get("refund") or {}, after["refund"] or {})
    await _write_sequence(
        session,
        models.OrderEvent,
        {"order_no": state.order_no},
        before.get("events", []),
        after["events"],
        [
            {"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in state.events
        ],
    )


async def _write_queue_items(
    session: AsyncSession, state: OrderState, old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> None:
    """The order's open back-office work, as its clocks say (replaced when they changed)."""
    if new == old:
        return
    await session.execute(
        delete(models.QueueItem).where(models.QueueItem.order_no == state.order_no)
    )
    for item in queues.items(state):
        session.add(
            models.QueueItem(
                queue=item.queue.value,
                item_id=item.item_id,
                order_no=state.order_no,
                since=item.since,
                due_at=item.due,
                overdue=item.overdue,
            )
        )
    await session.flush()


async def _write_refund(
    session: AsyncSession, state: OrderState, old: dict[str, Any], data: dict[str, Any]
) -> None:
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
        data["log"],
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


async def _write_ledger(
    session: AsyncSession, state: OrderState, old: dict[str, Any], data: dict[str, Any]
) -> None:
    """The payout ledger follows the refund: one row from the moment it is paid out."""
    refund = state.refund
    paid = refund is not None and refund.status is RefundStatus.REFUNDED
    if paid and refund is not None and data != old:
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
