"""From the results JSON to the derived figures: CPU per lifecycle, ratios to the ceiling,
which goals are met. Kept in the JSON as its ``summary``; the report renders it."""

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
from bench.stats import ratio

FULL_STACK = ("temporal", "worker", "api", "mail")
BARE_STACK = ("temporal", "ceiling-worker")


def _cpu_ms(usage: dict[str, Any], name: str, lifecycles: int) -> float | None:
    if name not in usage or lifecycles <= 0:
        return None
    return round(usage[name]["cpu_s"] * 1000 / lifecycles, 1)


def _stack_ms(usage: dict[str, Any], names: tuple[str, ...], lifecycles: int) -> float | None:
    if lifecycles <= 0:
        return None
    return round(sum(usage[n]["cpu_s"] for n in names if n in usage) * 1000 / lifecycles, 1)


def _peak(usage: dict[str, Any], name: str) -> float | None:
    return usage[name]["peak_rss_mb"] if name in usage else None


def _level(level: dict[str, Any]) -> dict[str, Any]:
    bare, full = level["ceiling"], level["lifecycle"]
    bare_usage, full_usage = bare["usage"], full["usage"]
    n_bare, n_full = bare["lifecycles"], full["lifecycles"]
    update = bare["latency"].get("update_round_trip", {})
    place = bare["latency"].get("place_equivalent", {})
    routes = {}
    for name, stats in full["routes"].items():
        reference = place if name == "place" else update
        routes[name] = {
            q: ratio(stats.get(f"{q}_ms"), reference.get(f"{q}_ms")) for q in ("p50", "p95", "p99")
        }
        routes[name]["met"] = _route_met(routes[name])
    cpu = {
        "lifecycle_ms": {
            **{n: _cpu_ms(full_usage, n, n_full) for n in (*FULL_STACK, "driver")},
            "stack": _stack_ms(full_usage, FULL_STACK, n_full),
        },
        "ceiling_ms": {
            "temporal": _cpu_ms(bare_usage, "temporal", n_bare),
            "worker": _cpu_ms(bare_usage, "ceiling-worker", n_bare),
            "driver": _cpu_ms(bare_usage, "driver", n_bare),
            "stack": _stack_ms(bare_usage, BARE_STACK, n_bare),
        },
    }
    cpu["ratio"] = {
        key: ratio(cpu["lifecycle_ms"][key], cpu["ceiling_ms"][key])
        for key in ("temporal", "worker", "stack")
    }
    # Which process spends the difference: the product's CPU per lifecycle less the
    # ceiling's counterpart (the API and the SMTP catcher have none).
    counterpart = {"temporal": "temporal", "worker": "worker", "api": None, "mail": None}
    cpu["difference_ms"] = {
        name: _minus(cpu["lifecycle_ms"][name], cpu["ceiling_ms"][other] if other else 0.0)
        for name, other in counterpart.items()
    }
    activity_ceiling = level.get("ceiling_activity")
    second = _second_ceiling(activity_ceiling, full) if activity_ceiling else None
    memory = {
        "worker_peak_mb": _peak(full_usage, "worker"),
        "ceiling_worker_peak_mb": _peak(bare_usage, "ceiling-worker"),
        "api_peak_mb": _peak(full_usage, "api"),
        "temporal_peak_mb": _peak(full_usage, "temporal"),
    }
    memory["worker_ratio"] = ratio(memory["worker_peak_mb"], memory["ceiling_worker_peak_mb"])
    throughput = ratio(full["lifecycles_per_s"], bare["lifecycles_per_s"])
    worst = max(routes.items(), key=lambda item: item[1]["p50"] or 0)
    worst_p99 = max(routes.items(), key=lambda item: item[1]["p99"] or 0)
    stack_ratio = cpu["ratio"]["stack"]
    return {
        "concurrency": level["concurrency"],
        "ceiling_per_s": bare["lifecycles_per_s"],
        "lifecycle_per_s": full["lifecycles_per_s"],
        "throughput_ratio": throughput,
        "throughput_goal_met": throughput is not None and throughput >= THROUGHPUT_GOAL,
        "cpu_goal_met": stack_ratio is not None and stack_ratio <= CPU_GOAL,
        "routes_goal_met": all(r["met"] for r in routes.values()),
        "activity_ceiling": second,
        "bare_update_p50_ms": update.get("p50_ms"),
        "bare_update_p99_ms": update.get("p99_ms"),
        "bare_place_p50_ms": place.get("p50_ms"),
        "route_ratios": routes,
        "worst_route": {"route": worst[0], **worst[1]},
        "worst_route_p99": {"route": worst_p99[0], **worst_p99[1]},
        "routes_within_goal": sum(
            1 for r in routes.values() if r["p50"] is not None and r["p50"] <= LATENCY_GOAL
        ),
        "cpu": cpu,
        "memory": memory,
        "failed": bare["failed"] + full["failed"],
    }


def _route_met(ratios: dict[str, Any]) -> bool:
    p50, p99 = ratios.get("p50"), ratios.get("p99")
    return p50 is not None and p99 is not None and p50 <= LATENCY_GOAL and p99 <= P99_GOAL


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 1)


def _second_ceiling(bare: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    """The earlier ceiling (a regular activity per update), as a second reference line."""
    n = bare["lifecycles"]
    return {
        "per_s": bare["lifecycles_per_s"],
        "throughput_ratio": ratio(full["lifecycles_per_s"], bare["lifecycles_per_s"]),
        "update_p50_ms": bare["latency"].get("update_round_trip", {}).get("p50_ms"),
        "stack_cpu_ms": _stack_ms(bare["usage"], BARE_STACK, n),
        "worker_cpu_ms": _cpu_ms(bare["usage"], "ceiling-worker", n),
        "temporal_cpu_ms": _cpu_ms(bare["usage"], "temporal", n),
    }


def _lists_goal(lists: dict[str, Any]) -> dict[str, Any]:
    """The worst p99 of each list endpoint over every variant timed (deep pages included)."""
    worst: dict[str, Any] = {}
    for endpoint, data in lists["endpoints"].items():
        p99s = [(name, v.get("p99_ms")) for name, v in data["variants"].items()]
        name, p99 = max(p99s, key=lambda item: item[1] or 0.0, default=("all", None))
        worst[endpoint] = {
            "worst_variant": name,
            "p99_ms": p99,
            "all_p99_ms": data["all"]["p99_ms"],
        }
    values = [w["p99_ms"] for w in worst.values() if w["p99_ms"] is not None]
    orders = lists.get("orders_in_database", 0)
    return {
        "orders": orders,
        "at_goal_scale": orders >= LIST_ORDERS_FOR_GOAL,
        "endpoints": worst,
        "worst_p99_ms": max(values) if values else None,
        "met": bool(values) and max(values) < LIST_P99_MS,
    }


def _open_goal(opened: dict[str, Any]) -> dict[str, Any]:
    peak = (opened.get("usage", {}).get("worker") or {}).get("peak_rss_mb")
    rss = max(v for v in (opened.get("worker_rss_mb"), peak) if v is not None)
    return {
        "open": opened["started"],
        "at_goal_scale": opened["started"] >= OPEN_ORDERS_FOR_GOAL,
        "worker_rss_mb": rss,
        "met": rss < OPEN_RSS_MB and opened.get("failed", 0) == 0,
    }


def _scale_out(scale_out: dict[str, Any], levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each 2-worker, 2-API level beside the single-process level of the same concurrency."""
    single = {lv["concurrency"]: lv for lv in levels}
    out = []
    for level in scale_out["levels"]:
        usage, n = level["usage"], level["lifecycles"]
        one = single.get(level["concurrency"])
        out.append(
            {
                "concurrency": level["concurrency"],
                "lifecycle_per_s": level["lifecycles_per_s"],
                "single_per_s": one["lifecycle_per_s"] if one else None,
                "vs_single": ratio(level["lifecycles_per_s"], one["lifecycle_per_s"])
                if one
                else None,
                "failed": level["failed"],
                "lifecycles": n,
                "cpu_ms": {
                    "temporal": _cpu_ms(usage, "temporal", n),
                    "workers": _stack_ms(usage, ("worker", "worker-2"), n),
                    "apis": _stack_ms(usage, ("api", "api-2"), n),
                    "mail": _cpu_ms(usage, "mail", n),
                    "stack": _stack_ms(usage, (*FULL_STACK, "worker-2", "api-2"), n),
                },
                # How evenly the two took the work (0.5 = evenly).
                "second_worker_share": _share(usage, "worker-2", "worker"),
                "second_api_share": _share(usage, "api-2", "api"),
                "route_p50_ms": {r: v.get("p50_ms") for r, v in level["routes"].items()},
            }
        )
    return out


def _share(usage: dict[str, Any], second: str, first: str) -> float | None:
    if second not in usage or first not in usage:
        return None
    return ratio(usage[second]["cpu_s"], usage[second]["cpu_s"] + usage[first]["cpu_s"])


def _variants(variants: dict[str, Any]) -> dict[str, Any]:
    measured = variants["measured"]
    base = measured.get("baseline")
    if base is None:
        return {}
    out = {}
    for name, level in measured.items():
        n = level["lifecycles"]
        routes = level["routes"]
        base_routes = base["routes"]
        out[name] = {
            "lifecycles_per_s": level["lifecycles_per_s"],
            "throughput_vs_baseline": ratio(level["lifecycles_per_s"], base["lifecycles_per_s"]),
            "worker_cpu_ms": _cpu_ms(level["usage"], "worker", n),
            "temporal_cpu_ms": _cpu_ms(level["usage"], "temporal", n),
            "api_cpu_ms": _cpu_ms(level["usage"], "api", n),
            "api_cpu_vs_baseline": ratio(
                _cpu_ms(level["usage"], "api", n),
                _cpu_ms(base["usage"], "api", base["lifecycles"]),
            ),
            "stack_cpu_ms": _stack_ms(level["usage"], FULL_STACK, n),
            "worker_cpu_vs_baseline": ratio(
                _cpu_ms(level["usage"], "worker", n),
                _cpu_ms(base["usage"], "worker", base["lifecycles"]),
            ),
            "route_p50_vs_baseline": {
                r: ratio(routes[r].get("p50_ms"), base_routes[r].get("p50_ms")) for r in routes
            },
        }
    return out


def summarise(document: dict[str, Any]) -> dict[str, Any]:
    levels = [_level(level) for level in document.get("levels", [])]
    summary: dict[str, Any] = {
        "goals": {
            "throughput_ratio_at_least": THROUGHPUT_GOAL,
            "stack_cpu_ratio_at_most": CPU_GOAL,
            "route_p50_ratio_at_most": LATENCY_GOAL,
            "route_p99_ratio_at_most": P99_GOAL,
            "list_p99_ms_below": LIST_P99_MS,
            "open_worker_rss_mb_below": OPEN_RSS_MB,
        },
        "levels": levels,
    }
    if "scale_out" in document:
        summary["scale_out"] = _scale_out(document["scale_out"], levels)
    if "lists" in document:
        summary["lists_goal"] = _lists_goal(document["lists"])
    if "open_workflows" in document:
        summary["open_goal"] = _open_goal(document["open_workflows"])
    if "variants" in document:
        summary["variants"] = _variants(document["variants"])
    return summary
