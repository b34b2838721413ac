"""Scale: the list endpoints over a large book of orders, and the worker's memory with many
open order workflows waiting on their timers.

The large book is bulk-loaded projection rows (orders + invoice applications + refunds)
written with SQLAlchemy core, each row's state a valid OrderState from ``bench.orders``;
the open workflows are real ShopOrderWorkflow runs, started the way the API places orders.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psutil
from sqlalchemy import func, insert, select
from temporalio.client import Client

from activities.projection import order_columns
from bench import orders
from bench.lifecycle import Session
from bench.load import closed_loop
from bench.meter import rss_mb
from bench.stats import Recorder, summary
from db import models
from db.engine import make_engine
from domain import ids
from domain.calendar import service_end, shanghai
from settings import Settings
from workflows.shop_order import ShopOrderWorkflow
from workflows.starting import start_order

BATCH = 2_000
# Shares of the book: the two demo buyers and a few more (staff lists see them all).
BUYERS = (
    ("leiliang", "快乐贸易有限公司", 0.5),
    ("zhangsan", "示例科技有限公司", 0.25),
    *((f"bench-buyer-{n}", f"压测公司{n}", 0.25 / 8) for n in range(8)),
)
SHOPS = 300
# Invoice application numbers far above what the counters hand out during the run.
INVOICE_SEQUENCE_BASE = 60_000_000


def _rows(
    count: int, seed: int = 7
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]]:
    """(order row, invoice rows, refund row or None) for ``count`` orders placed over the last
    two years, one a distinct second apart (so order numbers are unique by construction)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=730)
    step = max(1, int(timedelta(days=729).total_seconds() // max(count, 1)))
    templates = orders.stages(first)
    prepared = [
        (json.dumps(s.model_dump(mode="json"), ensure_ascii=False), order_columns(s))
        for s in templates
    ]
    chosen = rng.choices(range(len(templates)), weights=orders.weights(templates), k=count)
    names, shares = zip(*((b[:2], b[2]) for b in BUYERS), strict=True)
    buyers = rng.choices(names, weights=shares, k=count)
    invoice_seq = INVOICE_SEQUENCE_BASE
    for index in range(count):
        placed = first + timedelta(seconds=index * step)
        order_no = ids.order_no(placed, index % 10_000)
        text, columns = prepared[chosen[index]]
        state = json.loads(text)
        username, company = buyers[index]
        shop = f"{templates[chosen[index]].product.platform.label}旗舰店{rng.randrange(SHOPS):03d}"
        end = service_end(placed)
        state.update(
            order_no=order_no,
            buyer=username,
            buyer_company=company,
            shop_name=shop,
            service_market_order_no=f"BULK{index:09d}",
            # Unique, as every order's AppKey is (32 upper-case hex characters).
            app_key=f"{index:032X}",
            placed_at=placed.isoformat(),
            service_end_at=end.isoformat(),
        )
        invoices = []
        for invoice in state["invoices"]:
            invoice_seq += 1
            invoice["invoice_app_no"] = f"KP_{shanghai(placed):%Y%m}_{invoice_seq:08d}"
            if invoice["invoice_number"]:  # a 发票号 is recorded on one application only
                invoice["invoice_number"] = f"BULK{invoice_seq:016d}"
            invoices.append(
                {
                    "invoice_app_no": invoice["invoice_app_no"],
                    "order_no": order_no,
                    "buyer": username,
                    "status": invoice["status"],
                    "amount_fen": invoice["amount_fen"],
                    "invoice_number": invoice["invoice_number"],
                    "created_at": placed,
                    "data": invoice,
                }
            )
        refund_row = None
        if state["refund"] is not None:
            refund = state["refund"]
            refund["refund_id"] = ids.refund_id_for(order_no)
            refund_row = {
                "refund_id": refund["refund_id"],
                "order_no": order_no,
                "buyer": username,
                "status": refund["status"],
                "amount_fen": refund["amount_fen"],
                "platform": columns["platform"],
                "shop_name": shop,
                "service_market_order_no": state["service_market_order_no"],
                "applied_at": placed + timedelta(hours=15),
                "data": refund,
            }
        row = dict(columns)
        row.update(
            order_no=order_no,
            buyer=username,
            shop_name=shop,
            service_market_order_no=state["service_market_order_no"],
            app_key=state["app_key"],
            placement_key=None,
            placed_at=placed,
            service_end_at=end,
            state=state,
            updated_at=now,
        )
        yield row, invoices, refund_row


async def bulk_load(database_url: str, count: int) -> dict[str, Any]:
    """Insert ``count`` orders in batches; answers how long it took and the table sizes."""
    engine = make_engine(database_url)
    started = time.perf_counter()
    order_rows: list[dict[str, Any]] = []
    invoice_rows: list[dict[str, Any]] = []
    refund_rows: list[dict[str, Any]] = []

    async def flush() -> None:
        async with engine.begin() as connection:
            if order_rows:
                await connection.execute(insert(models.Order), order_rows)
            if invoice_rows:
                await connection.execute(insert(models.InvoiceApplication), invoice_rows)
            if refund_rows:
                await connection.execute(insert(models.Refund), refund_rows)
        order_rows.clear()
        invoice_rows.clear()
        refund_rows.clear()

    try:
        for row, invoices, refund in _rows(count):
            order_rows.append(row)
            invoice_rows.extend(invoices)
            if refund is not None:
                refund_rows.append(refund)
            if len(order_rows) >= BATCH:
                await flush()
        await flush()
        async with engine.connect() as connection:
            # Fresh statistics, as a database that grew to this size would have; on
            # PostgreSQL also the visibility map autovacuum keeps after inserts (since 13),
            # without which the tab counts' index-only scans visit every row.
            if database_url.startswith("postgres"):
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
            else:
                await connection.exec_driver_sql("ANALYZE")
                await connection.commit()
            total = await connection.scalar(select(func.count()).select_from(models.Order))
    finally:
        await engine.dispose()
    return {
        "loaded": count,
        "orders_in_database": int(total or 0),
        "load_s": round(time.perf_counter() - started, 1),
    }


def list_queries(now: datetime) -> dict[str, dict[str, str]]:
    """The list variants timed: filters, tabs and pagination the UI offers."""
    month_end = now - timedelta(days=200)
    month_start = month_end - timedelta(days=30)
    return {
        "first_page": {},
        "tab_in_progress": {"tab": "in_progress"},
        "tab_refunding": {"tab": "refunding"},
        "shop_name": {"shop_name": "旗舰店042"},
        "platform_completed": {"platform": "jd", "tab": "completed"},
        "invoice_status": {"invoice_status": "issued"},
        "placed_month": {
            "placed_from": f"{month_start:%Y-%m-%d}",
            "placed_to": f"{month_end:%Y-%m-%d}",
        },
        "deep_page": {"page": "500", "page_size": "20"},
        "page_size_100": {"page_size": "100"},
    }


async def time_lists(session: Session, *, requests: int) -> dict[str, Any]:
    """p50/p99 of GET /api/orders (buyer) and /api/admin/orders (reviewer), ``requests``
    each, cycling through the variants; sequential, so each answer's time is its own."""
    now = datetime.now(UTC)
    endpoints = {
        "GET /api/orders": ("/api/orders", "leiliang"),
        "GET /api/admin/orders": ("/api/admin/orders", "bmp"),
    }
    report: dict[str, Any] = {}
    for label, (path, who) in endpoints.items():
        variants = list_queries(now)
        recorder = Recorder()
        totals: dict[str, int] = {}
        headers = session.headers[who]
        for params in variants.values():  # warm-up: one of each, not counted
            await _get(session.http, path, params, headers)
        # Page 500 again by keyset: the cursor page 499 answers, beside the offset page
        # (a book too small for page 500 has no cursor to follow there).
        before = await _get(session.http, path, {"page": "499", "page_size": "20"}, headers)
        if before.get("next_cursor"):
            variants["deep_page_cursor"] = {"cursor": before["next_cursor"], "page_size": "20"}
            await _get(session.http, path, variants["deep_page_cursor"], headers)
        for index in range(requests):
            name, params = list(variants.items())[index % len(variants)]
            started = time.perf_counter()
            body = await _get(session.http, path, params, headers)
            elapsed = time.perf_counter() - started
            recorder.add(name, elapsed)
            recorder.add("all", elapsed)
            totals[name] = int(body["total"])
        summaries = recorder.summaries()
        report[label] = {
            "all": summaries.pop("all"),
            "variants": {
                name: {"params": variants[name], "total": totals.get(name), **summaries[name]}
                for name in variants
                if name in summaries
            },
        }
    return report


async def _get(
    http: httpx.AsyncClient, path: str, params: dict[str, str], headers: dict[str, str]
) -> dict[str, Any]:
    answer = await http.get(path, params=params, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(
            f"GET {path} {params} answered {answer.status_code}: {answer.text[:300]}"
        )
    return dict(answer.json())


async def open_workflows(
    client: Client,
    settings: Settings,
    *,
    count: int,
    concurrency: int,
    worker_pid: int,
    temporal_pid: int,
) -> dict[str, Any]:
    """Start ``count`` order runs as the API places them (start, then the ``recorded``
    update), then measure the worker's memory once they all wait on their timers."""
    tag = f"{int(time.time()) % 100_000:05d}"
    at = datetime.now(UTC)
    checkpoints: list[dict[str, Any]] = [
        {"open": 0, "worker_rss_mb": rss_mb(worker_pid), "temporal_rss_mb": rss_mb(temporal_pid)}
    ]
    every = max(count // 10, 1)
    recorder = Recorder()
    done = 0

    async def place(index: int) -> None:
        nonlocal done
        state = orders.placed_now(index, tag, at)
        started = time.perf_counter()
        handle = await start_order(client, settings.temporal_task_queue, state)
        await handle.execute_update(ShopOrderWorkflow.recorded, id="recorded")
        recorder.add("place", time.perf_counter() - started)
        done += 1
        if done % every == 0:
            checkpoints.append(
                {
                    "open": done,
                    "worker_rss_mb": rss_mb(worker_pid),
                    "temporal_rss_mb": rss_mb(temporal_pid),
                }
            )

    result = await closed_loop(place, total=count, concurrency=concurrency)
    settle_s = await _until_idle(worker_pid)
    running = await _count_running(client)
    return {
        "started": result.completed,
        "failed": result.failed,
        "errors": result.errors,
        "wall_s": round(result.wall_s, 1),
        "placed_per_s": round(result.per_second, 2),
        "place_latency": summary(recorder.samples["place"]),
        "settle_s": settle_s,
        "running_in_temporal": running,
        "worker_rss_mb": rss_mb(worker_pid),
        "temporal_rss_mb": rss_mb(temporal_pid),
        "checkpoints": checkpoints,
        "max_cached_workflows": 1000,  # temporalio Worker default; worker.py keeps it
    }


async def _until_idle(pid: int, limit_s: float = 90.0) -> float:
    """Seconds until the process uses under 5 % of a core for two seconds running."""
    process = psutil.Process(pid)
    started = time.perf_counter()
    quiet = 0
    process.cpu_percent(None)
    while time.perf_counter() - started < limit_s and quiet < 2:
        await asyncio.sleep(1)
        quiet = quiet + 1 if process.cpu_percent(None) < 5 else 0
    return round(time.perf_counter() - started, 1)


async def _count_running(client: Client) -> int | None:
    query = "WorkflowType='ShopOrderWorkflow' AND ExecutionStatus='Running'"
    try:
        return (await client.count_workflows(query)).count
    except Exception:  # visibility without count support: leave it out
        return None


# The indexes recommended for the list endpoints, tried on the bench's own database only.
# Candidate indexes to try on the run's own database before anyone writes their migration
# (SQL statements; the lists are timed again with them). The last candidates,
# ix_orders_buyer_placed_at and ix_orders_buyer_tabs, are in the schema since migration 0002.
INDEX_EXPERIMENT: tuple[str, ...] = ()


async def add_indexes(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            for statement in INDEX_EXPERIMENT:
                await connection.exec_driver_sql(statement)
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return list(INDEX_EXPERIMENT)
