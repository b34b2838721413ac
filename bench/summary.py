"""From the results JSON to the derived figures: CPU per lifecycle, ratios to the ceiling,
which goals are met. Kept in the JSON as its ``summary``; the report renders it."""

from __future__ import annotations

from typing import Any

from bench.goals import LATENCY_GOAL, THROUGHPUT_GOAL
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
    memory = {
        "worker_peak_mb": _peak(full_usage, "worker"),
        "ceiling_worker_peak_mb": _peak(bare_usage, "ceiling-worker"),
        "api_peak_mb": _peak(full_usage, "api"),
        "temporal_peak_mb": _peak(full_usage, "temporal"),
    }
    memory["worker_ratio"] = ratio(memory["worker_peak_mb"], memory["ceiling_worker_peak_mb"])
    throughput = ratio(full["lifecycles_per_s"], bare["lifecycles_per_s"])
    worst = max(routes.items(), key=lambda item: item[1]["p50"] or 0)
    return {
        "concurrency": level["concurrency"],
        "ceiling_per_s": bare["lifecycles_per_s"],
        "lifecycle_per_s": full["lifecycles_per_s"],
        "throughput_ratio": throughput,
        "throughput_goal_met": throughput is not None and throughput >= THROUGHPUT_GOAL,
        "bare_update_p50_ms": update.get("p50_ms"),
        "bare_place_p50_ms": place.get("p50_ms"),
        "route_ratios": routes,
        "worst_route": {"route": worst[0], **worst[1]},
        "routes_within_goal": sum(
            1 for r in routes.values() if r["p50"] is not None and r["p50"] <= LATENCY_GOAL
        ),
        "cpu": cpu,
        "memory": memory,
        "failed": bare["failed"] + full["failed"],
    }


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
            "route_p50_ratio_at_most": LATENCY_GOAL,
        },
        "levels": levels,
    }
    if "variants" in document:
        summary["variants"] = _variants(document["variants"])
    return summary
