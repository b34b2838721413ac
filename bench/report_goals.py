"""The report's goal table: each goal of issue #15 per concurrency, met or not, and where
not, which process spends the difference against the honest ceiling."""

from __future__ import annotations

from typing import Any

from bench.goals import (
    CPU_GOAL,
    LATENCY_GOAL,
    LIST_ORDERS_FOR_GOAL,
    LIST_P99_MS,
    OPEN_ORDERS_FOR_GOAL,
    OPEN_RSS_MB,
    P99_GOAL,
    THROUGHPUT_GOAL,
)
from bench.markdown import fmt, ok, table

PROCESS_NAMES = {"temporal": "dev server", "worker": "worker", "api": "API", "mail": "SMTP"}


def _spenders(level: dict[str, Any]) -> str:
    """The CPU per lifecycle above the ceiling's, largest first, by process."""
    diff = level["cpu"].get("difference_ms") or {}
    parts = sorted(
        ((name, ms) for name, ms in diff.items() if ms is not None and ms > 0),
        key=lambda item: -item[1],
    )
    return ", ".join(f"{PROCESS_NAMES.get(n, n)} +{ms:.0f} ms" for n, ms in parts) or "–"


def beside_section(beside: dict[str, Any]) -> list[str]:
    """The same goals in the other database's run (measured separately, same code)."""
    out = [
        f"### Beside it: {beside.get('database')}",
        "",
        f"From `docs/{beside['file']}` ({beside.get('generated_at')}, commit "
        f"{beside.get('commit') or 'not recorded'}): the same bench on the other database, "
        "a separate run minutes apart; ratios are to the ceiling measured in that run.",
        "",
    ]
    rows = []
    for level in beside.get("levels", []):
        met_routes = sum(1 for r in level["route_ratios"].values() if r.get("met"))
        rows.append(
            [
                level["concurrency"],
                f"{fmt(level['lifecycle_per_s'])} / {fmt(level['ceiling_per_s'])} = "
                f"{fmt(level['throughput_ratio'])} {ok(level['throughput_goal_met'])}",
                f"{fmt(level['cpu']['ratio']['stack'])} {ok(level.get('cpu_goal_met', False))}",
                f"{met_routes}/{len(level['route_ratios'])}",
                _spenders(level),
            ]
        )
    out += table(
        [
            "c",
            "JD / honest ceiling lifecycles/s",
            "stack CPU ×",
            "routes meeting p50 and p99",
            "CPU above the ceiling, by process",
        ],
        rows,
    )
    lists = beside.get("lists_goal")
    if lists:
        out += [
            f"Lists at {lists['orders']:,} orders: worst p99 {fmt(lists['worst_p99_ms'])} ms "
            f"{ok(lists['met'])}.",
            "",
        ]
    return out


def goals_section(summary: dict[str, Any]) -> list[str]:
    out = [
        "## Goals (issue #15)",
        "",
        f"Against the **honest ceiling** (a no-op local activity per update). JD lifecycles/s "
        f"≥ {THROUGHPUT_GOAL}× the ceiling's; stack CPU per lifecycle ≤ {CPU_GOAL}× the "
        f"ceiling's; every route p50 ≤ {LATENCY_GOAL}× and p99 ≤ {P99_GOAL}× the bare update "
        "round trip (`place` against the bare start + first update). The earlier ceiling (a "
        "regular activity per update) is the second line.",
        "",
    ]
    rows = []
    for level in summary.get("levels", []):
        second = level.get("activity_ceiling") or {}
        worst50, worst99 = level["worst_route"], level.get("worst_route_p99", {})
        met_routes = sum(1 for r in level["route_ratios"].values() if r.get("met"))
        rows.append(
            [
                level["concurrency"],
                f"{fmt(level['lifecycle_per_s'])} / {fmt(level['ceiling_per_s'])} = "
                f"{fmt(level['throughput_ratio'])} {ok(level['throughput_goal_met'])}",
                f"{fmt(second.get('per_s'))} ({fmt(second.get('throughput_ratio'))}×)",
                f"{fmt(level['cpu']['lifecycle_ms']['stack'])} / "
                f"{fmt(level['cpu']['ceiling_ms']['stack'])} ms = "
                f"{fmt(level['cpu']['ratio']['stack'])} {ok(level.get('cpu_goal_met', False))}",
                f"{met_routes}/{len(level['route_ratios'])} "
                f"{ok(level.get('routes_goal_met', False))}",
                f"{worst50['route']} {fmt(worst50['p50'])}× / "
                f"{worst99.get('route', '–')} {fmt(worst99.get('p99'))}×",
                _spenders(level),
            ]
        )
    out += table(
        [
            "c",
            "JD / honest ceiling lifecycles/s",
            "earlier ceiling/s (JD ×)",
            "stack CPU ms per lifecycle (JD / ceiling)",
            "routes meeting p50 and p99",
            "worst p50 × / worst p99 ×",
            "CPU above the ceiling, by process",
        ],
        rows,
    )
    lists, opened = summary.get("lists_goal"), summary.get("open_goal")
    if lists:
        scale = (
            "" if lists["at_goal_scale"] else f" (not at {LIST_ORDERS_FOR_GOAL:,}: a smaller run)"
        )
        per = "; ".join(
            f"{endpoint} worst p99 {fmt(w['p99_ms'])} ms ({w['worst_variant']})"
            for endpoint, w in lists["endpoints"].items()
        )
        out += [
            f"- Lists at {lists['orders']:,} orders{scale}, p99 < {LIST_P99_MS:.0f} ms: "
            f"{ok(lists['met'])} — {per}.",
        ]
    if opened:
        scale = "" if opened["at_goal_scale"] else f" (not {OPEN_ORDERS_FOR_GOAL:,}: a smaller run)"
        out += [
            f"- {opened['open']:,} open orders on one worker{scale}, RSS < {OPEN_RSS_MB:.0f} MB: "
            f"{ok(opened['met'])} — {fmt(opened['worker_rss_mb'])} MB.",
        ]
    return [*out, ""]
