"""What one order leaves behind, measured on the run's own stack after the JD lifecycles:
its Temporal history (events, bytes, state transitions, the kinds of events that Temporal
Cloud bills as Actions) and its projection rows and bytes. The capacity model
(bench/capacity.py) multiplies these by the volume."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Table, func, select, text
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from db import models
from db.engine import make_engine

SAMPLE = 5
# History event kinds that each count as one Temporal Cloud Action (docs.temporal.io/cloud/
# actions): a start, an accepted update, a local activity's marker, an activity scheduled,
# a timer started, search attributes upserted.
BILLED_EVENTS = (
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    "EVENT_TYPE_MARKER_RECORDED",
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
    "EVENT_TYPE_TIMER_STARTED",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
)
# The order's own tables (users, products, sessions, counters are not per order).
ORDER_TABLES = (
    models.Order,
    models.InvoiceApplication,
    models.Refund,
    models.QueueItem,
    models.RefundLogEntry,
    models.Transaction,
    models.OrderEvent,
    models.Payout,
    models.OutboxMessage,
    models.Message,
    models.NumberAllocation,
)


async def temporal_per_order(client: Client) -> dict[str, Any]:
    """Averages over a few ShopOrderWorkflow runs that walked the whole JD path."""
    found = []
    async for execution in client.list_workflows(
        "WorkflowType = 'ShopOrderWorkflow'", limit=SAMPLE
    ):
        found.append(execution.id)
    if not found:
        return {}
    lengths, sizes, transitions = [], [], []
    kinds: Counter[str] = Counter()
    for workflow_id in found:
        handle = client.get_workflow_handle(workflow_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        lengths.append(info.history_length)
        sizes.append(info.history_size_bytes)
        transitions.append(info.state_transition_count)
        async for event in handle.fetch_history_events():
            kinds[_event_name(event.event_type)] += 1
    n = len(found)
    return {
        "sampled_runs": n,
        "history_events": round(sum(lengths) / n, 1),
        "history_bytes": round(sum(sizes) / n),
        "state_transitions": round(sum(transitions) / n, 1),
        "billed_actions": round(sum(kinds[k] for k in BILLED_EVENTS) / n, 1),
        "event_kinds": {k: round(v / n, 1) for k, v in kinds.most_common()},
    }


def _event_name(value: int) -> str:
    return str(EventType.Name(value))  # type: ignore[arg-type]


async def database_per_order(database_url: str) -> dict[str, Any]:
    """Rows and bytes of the order tables, per order in the database."""
    engine = make_engine(database_url)
    postgres = database_url.startswith("postgres")
    try:
        async with engine.connect() as connection:
            orders = int(
                (
                    await connection.execute(select(func.count()).select_from(models.Order))
                ).scalar_one()
            )
            tables: dict[str, dict[str, Any]] = {}
            for model in ORDER_TABLES:
                table: Table = model.__table__  # type: ignore[assignment]
                rows = int(
                    (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                )
                size = None
                if postgres:
                    size = int(
                        (
                            await connection.execute(
                                text("SELECT pg_total_relation_size(:t)"), {"t": table.name}
                            )
                        ).scalar_one()
                    )
                tables[table.name] = {"rows": rows, "bytes": size}
            if not postgres:
                pages = (await connection.exec_driver_sql("PRAGMA page_count")).scalar_one()
                page = (await connection.exec_driver_sql("PRAGMA page_size")).scalar_one()
                whole = int(pages) * int(page)
            else:
                whole = sum(t["bytes"] or 0 for t in tables.values())
    finally:
        await engine.dispose()
    if orders == 0:
        return {}
    return {
        "orders": orders,
        "rows_per_order": round(sum(t["rows"] for t in tables.values()) / orders, 1),
        "bytes_per_order": round(whole / orders),
        "bytes_measured": "order tables with their indexes" if postgres else "whole SQLite file",
        "tables": {
            name: {"rows_per_order": round(t["rows"] / orders, 2), "bytes": t["bytes"]}
            for name, t in tables.items()
        },
    }
