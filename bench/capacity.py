"""docs/capacity.md, written with the report from the same JSON: how many cores of API and
workers, how many Temporal state transitions per second, how much history and how many
PostgreSQL rows a given volume of orders needs, from the CPU per lifecycle and the
footprint per order this run measured. Every assumption is a named constant here and is
printed in the document beside the figures it drives."""

from __future__ import annotations

import math
from typing import Any

from bench.markdown import fmt, table

VOLUMES = (10_000, 100_000, 1_000_000)  # orders a month
# The mix of the guide's paths (bench/orders.PATHS): share of orders, state changes each
# (placement included). Assumed, not measured: the guide names the paths, not their shares.
MIX: tuple[tuple[str, float, int], ...] = (
    ("JD: review, receipt, refund, settlement, payout, invoice issued and shipped", 0.30, 10),
    ("JSFW (invoice only): review, receipt, invoice issued and shipped", 0.30, 5),
    ("JD without a refund: review, receipt, decision, invoice issued", 0.20, 5),
    ("DY: review, refund decided and applied for", 0.10, 4),
    ("returned by the reviewer (and corrected)", 0.05, 2),
    ("voided", 0.05, 2),
)
JD_CHANGES = 10  # what the bench's lifecycle does, and what the measured CPU is for
READS_PER_CHANGE = 3  # list pages and detail pages people open around each change
PEAK_HOUR_FACTOR = 4.0  # the busiest hour against the month's average hour
TARGET_UTILISATION = 0.6  # cores sized to run at most 60 % busy at the peak
HOURS_PER_MONTH = 30 * 24
# Temporal Cloud: each namespace starts at 500 Actions per second (docs.temporal.io/cloud/
# limits); self-hosted: the history shard count is fixed when the cluster is created
# (temporalio/server's auto-setup defaults to 4; production clusters usually start at 512).
CLOUD_DEFAULT_APS = 500


def changes_per_order() -> float:
    return sum(share * changes for _, share, changes in MIX)


def _per_lifecycle(doc: dict[str, Any]) -> dict[str, float] | None:
    """CPU ms per JD lifecycle of each process, at the highest concurrency measured (where
    the stack is busiest, as at a peak)."""
    levels = (doc.get("summary") or {}).get("levels") or []
    if not levels:
        return None
    top = max(levels, key=lambda lv: lv["concurrency"])
    cpu = top["cpu"]["lifecycle_ms"]
    return {
        "concurrency": top["concurrency"],
        "api": cpu.get("api") or 0.0,
        "worker": cpu.get("worker") or 0.0,
        "temporal": cpu.get("temporal") or 0.0,
        "mail": cpu.get("mail") or 0.0,
    }


def _read_ms(doc: dict[str, Any]) -> float | None:
    lists = doc.get("lists")
    if not lists:
        return None
    requests = lists["requests_per_endpoint"] * len(lists["endpoints"])
    api = lists["usage"].get("api")
    return api["cpu_s"] * 1000 / requests if api and requests else None


def _cores(rate_per_s: float, cpu_ms: float) -> float:
    return rate_per_s * cpu_ms / 1000 / TARGET_UTILISATION


def model(doc: dict[str, Any]) -> dict[str, Any]:
    cpu = _per_lifecycle(doc)
    read_ms = _read_ms(doc) or 0.0
    footprint = doc.get("footprint") or {}
    history = footprint.get("temporal") or {}
    rows = footprint.get("database") or {}
    weight = changes_per_order() / JD_CHANGES  # an average order against a JD lifecycle
    out = []
    for monthly in VOLUMES:
        peak_orders_per_s = monthly / HOURS_PER_MONTH / 3600 * PEAK_HOUR_FACTOR
        lifecycles = peak_orders_per_s * weight  # JD-lifecycle equivalents per second
        changes = peak_orders_per_s * changes_per_order()
        row: dict[str, Any] = {
            "orders_per_month": monthly,
            "peak_orders_per_s": round(peak_orders_per_s, 3),
            "peak_changes_per_s": round(changes, 2),
        }
        if cpu:
            row["api_cores"] = round(
                _cores(lifecycles, cpu["api"] + cpu["mail"])
                + _cores(changes * READS_PER_CHANGE, read_ms),
                2,
            )
            row["worker_cores"] = round(_cores(lifecycles, cpu["worker"]), 2)
            row["temporal_dev_server_cores"] = round(_cores(lifecycles, cpu["temporal"]), 2)
        if history:
            row["state_transitions_per_s"] = round(lifecycles * history["state_transitions"], 1)
            row["actions_per_s"] = round(lifecycles * history["billed_actions"], 1)
            row["history_gb_per_year"] = round(
                monthly * 12 * weight * history["history_bytes"] / 1e9, 2
            )
        if rows:
            row["db_rows_per_year"] = round(monthly * 12 * weight * rows["rows_per_order"])
            row["db_gb_per_year"] = round(monthly * 12 * weight * rows["bytes_per_order"] / 1e9, 2)
        out.append(row)
    return {"cpu_ms_per_lifecycle": cpu, "read_ms": read_ms, "volumes": out}


def _topology(row: dict[str, Any]) -> str:
    workers = max(1, math.ceil(row.get("worker_cores", 0)))
    apis = max(1, math.ceil(row.get("api_cores", 0)))
    transitions = row.get("state_transitions_per_s", 0)
    temporal = (
        "one `temporal` container (auto-setup, all services in one) is enough"
        if transitions < 100
        else "split `temporal` into frontend, history and matching services and give "
        "Temporal its own PostgreSQL (or Cassandra); set the history shard count for the "
        "target before the cluster is created, it cannot change later"
    )
    return (
        f"`worker` deploy.replicas ≥ {max(2, workers)} (2 for failover; 1 core each); "
        f"`api` × {max(2, apis)} behind a load balancer (compose publishes one port: add a "
        f"reverse proxy); {temporal}"
    )


def render(doc: dict[str, Any]) -> str:
    data = model(doc)
    cpu = data["cpu_ms_per_lifecycle"]
    footprint = doc.get("footprint") or {}
    history = footprint.get("temporal") or {}
    rows = footprint.get("database") or {}
    out = [
        "# Capacity",
        "",
        f"Written by `make bench` with docs/benchmarks.md, from the same run "
        f"({doc.get('generated_at')}, commit {doc.get('commit') or 'not recorded'}, projection "
        f"database **{doc.get('database')}**) — do not edit by hand. A model, not a "
        "measurement: the measured figures below are multiplied by the assumptions listed.",
        "",
        "## Measured in the run",
        "",
    ]
    if cpu:
        out += [
            f"- CPU per JD lifecycle (10 changes over HTTP) at c={cpu['concurrency']}: API "
            f"{fmt(cpu['api'])} ms, worker {fmt(cpu['worker'])} ms, SMTP catcher "
            f"{fmt(cpu['mail'])} ms, Temporal dev server {fmt(cpu['temporal'])} ms (SQLite-backed "
            "single binary: an indication, not a sizing of a production cluster).",
        ]
    if data["read_ms"]:
        out += [f"- API CPU per list request: {fmt(data['read_ms'])} ms."]
    if history:
        out += [
            f"- One JD order's history ({history['sampled_runs']} runs sampled): "
            f"{fmt(history['history_events'])} events, {fmt(history['history_bytes'] / 1024)} KiB, "
            f"{fmt(history['state_transitions'])} state transitions, ~"
            f"{fmt(history['billed_actions'])} billable Actions (starts, accepted updates, local "
            "activity markers, activities, timers, search-attribute upserts).",
        ]
    if rows:
        out += [
            f"- Projection per JD order: {fmt(rows['rows_per_order'])} rows, "
            f"{fmt(rows['bytes_per_order'] / 1024)} KiB ({rows['bytes_measured']}, "
            f"{rows['orders']:,} orders).",
        ]
    out += [
        "",
        "## Assumptions",
        "",
        *table(
            ["path", "share of orders", "state changes"],
            [[name, f"{share:.0%}", changes] for name, share, changes in MIX],
        ),
        f"- An average order makes {changes_per_order():.1f} changes: "
        f"{changes_per_order() / JD_CHANGES:.2f} of a JD lifecycle's CPU, history and rows.",
        f"- {READS_PER_CHANGE} list or detail requests per change; peak hour = "
        f"{PEAK_HOUR_FACTOR:g}× the month's average hour; cores sized for "
        f"{TARGET_UTILISATION:.0%} busy at the peak.",
        "- History is kept while the order is open (its one-year service term) and for the "
        "namespace's retention after; a year's orders is the history held at any time.",
        "",
        "## Per volume",
        "",
    ]
    out += table(
        [
            "orders / month",
            "peak orders/s",
            "peak changes/s",
            "API cores",
            "worker cores",
            "Temporal state transitions/s",
            "Actions/s",
            "history GB / year",
            "PostgreSQL rows / year",
            "PostgreSQL GB / year",
        ],
        [
            [
                f"{r['orders_per_month']:,}",
                r["peak_orders_per_s"],
                r["peak_changes_per_s"],
                r.get("api_cores"),
                r.get("worker_cores"),
                r.get("state_transitions_per_s"),
                r.get("actions_per_s"),
                r.get("history_gb_per_year"),
                f"{r['db_rows_per_year']:,}" if "db_rows_per_year" in r else "–",
                r.get("db_gb_per_year"),
            ]
            for r in data["volumes"]
        ],
    )
    scale_out = (doc.get("summary") or {}).get("scale_out") or []
    if scale_out:
        out += [
            "Scale-out measured in the run (2 workers + 2 API processes, same task queue and "
            "database, on the same cores): "
            + "; ".join(
                f"c={d['concurrency']}: {fmt(d['lifecycle_per_s'])} lifecycles/s "
                f"({fmt(d['vs_single'])}× one of each), {d['failed']} failed, second worker "
                f"{fmt(d.get('second_worker_share'))} and second API "
                f"{fmt(d.get('second_api_share'))} of the work"
                for d in scale_out
            )
            + ". Workers and APIs share the work evenly, so the cores above can be spread "
            "over processes and machines; on one machine a second process adds no cores.",
            "",
        ]
    out += ["## What to scale in docker-compose.yml", ""]
    out += [f"- **{r['orders_per_month']:,} a month**: {_topology(r)}." for r in data["volumes"]]
    out += [
        "",
        "## Against Temporal's published guidance",
        "",
        f"- Temporal Cloud starts each namespace at {CLOUD_DEFAULT_APS} Actions per second "
        "and raises it with use (docs.temporal.io/cloud/limits); the peak Actions/s above "
        "stays well below that at every volume here.",
        "- Self-hosted, Temporal sizes by state transitions per second and fixes the number "
        "of history shards at creation; the compose `temporal` container runs every service "
        "in one process on the shared PostgreSQL, which the peak state transitions above "
        "fit at 10k and 100k a month. At 1M a month plan the split services and a "
        "shard count chosen up front (Temporal's production checklist, "
        "docs.temporal.io/self-hosted-guide/production-checklist).",
        "- Workers: the sticky cache keeps 1,000 runs per worker (the 10,000-open-orders "
        "phase of the report measures the memory); open orders beyond it are replayed from "
        "history when touched, which costs worker CPU, not memory.",
        "",
    ]
    return "\n".join(out)
