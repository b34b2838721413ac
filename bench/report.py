"""The Markdown report, docs/benchmarks.md, written only ever from the results JSON."""

from __future__ import annotations

from typing import Any

from bench.findings import findings
from bench.goals import LATENCY_GOAL, THROUGHPUT_GOAL
from bench.markdown import fmt, ok, table
from bench.meter import OTHER
from bench.report_goals import beside_section, goals_section
from bench.report_sections import (
    lists_section,
    open_section,
    profile_section,
    scale_out_section,
    variant_section,
)
from bench.summary import summarise


def render(doc: dict[str, Any]) -> str:
    summary = doc.get("summary") or summarise(doc)
    machine = doc["machine"]
    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`{doc['command'].strip()}`) from `docs/benchmarks.json` — "
        "do not edit by hand; `python -m bench render` rewrites it from the JSON.",
        "",
        f"Run {doc['generated_at']} of commit {doc.get('commit') or 'not recorded'}, "
        f"{doc['duration_s'] / 60:.1f} min, on {machine['cpus']} "
        f"cores / {machine['memory_gb']} GB, Python {machine['python']}; projection database "
        f"**{doc['database']}**; Temporal dev server with its file database and WAL pragmas "
        "(as `make run`). Every process (dev server, worker, API, SMTP catcher, the ceiling's "
        "worker and this driver) shares the same cores.",
        "",
        "**Ceiling**: `bench/ceiling_workflow.py`, a workflow without business logic taking "
        f"{doc['updates_per_lifecycle']} updates (as many as the JD lifecycle has state "
        "changes), each with a validator, a lock and one no-op **local** activity (the write "
        "mechanism ShopOrderWorkflow uses), through the same client recipe (pydantic converter "
        "+ payload encryption) and workflow runner (unsandboxed, as worker.py), driven by the "
        "Temporal client at the same concurrency. The **earlier ceiling** (a regular activity "
        "per update) is measured beside it as a second reference line. "
        "**Lifecycle**: the guide's JD path over HTTP — "
        + ", ".join(f"`{r}`" for r in doc["routes"])
        + ". Closed loop: each of *c* users starts its next lifecycle when the last one ends.",
        "",
    ]
    out += goals_section(summary)
    if doc.get("beside"):
        out += beside_section(doc["beside"])
    out += [
        "## Against the ceiling",
        "",
    ]
    rows = []
    for level in summary["levels"]:
        worst = level["worst_route"]
        rows.append(
            [
                level["concurrency"],
                level["ceiling_per_s"],
                level["lifecycle_per_s"],
                f"{fmt(level['throughput_ratio'])} {ok(level['throughput_goal_met'])}",
                f"{level['routes_within_goal']}/{len(level['route_ratios'])}",
                f"{worst['route']} {fmt(worst['p50'])}×",
                level["cpu"]["ratio"]["stack"],
                level["cpu"]["ratio"]["worker"],
                level["memory"]["worker_ratio"],
            ]
        )
    out += table(
        [
            "c",
            "ceiling lifecycles/s",
            "JD lifecycles/s",
            f"ratio (goal ≥ {THROUGHPUT_GOAL:.2f})",
            f"routes with p50 ≤ {LATENCY_GOAL}× bare update",
            "worst route p50 ratio",
            "stack CPU per lifecycle ×",
            "worker CPU ×",
            "worker peak RSS ×",
        ],
        rows,
    )
    out += [
        "Route ratios compare each route's latency with the bare update round trip at the same "
        "concurrency (`POST /api/orders` with the bare start + first update). CPU ratios are CPU "
        "time per lifecycle, full stack (dev server + worker + API + SMTP catcher) over the "
        "ceiling's (dev server + ceiling worker).",
        "",
    ]
    if doc.get("previous"):
        out += _previous_section(doc["previous"], summary["levels"])
    for level, raw in zip(summary["levels"], doc["levels"], strict=True):
        out += _level_section(level, raw)
    if "scale_out" in doc:
        out += scale_out_section(doc["scale_out"], summary.get("scale_out", []))
    if "profile" in doc:
        out += profile_section(doc["profile"])
    if "variants" in doc:
        out += variant_section(doc["variants"], summary.get("variants", {}))
    if "lists" in doc:
        out += lists_section(doc["lists"])
    if "open_workflows" in doc:
        out += open_section(doc["open_workflows"])
    out += findings(doc, summary)
    return "\n".join(out).rstrip() + "\n"


def _mean_route_ratio(level: dict[str, Any]) -> float | None:
    p50s = [r["p50"] for r in level.get("route_ratios", {}).values() if r.get("p50") is not None]
    return sum(p50s) / len(p50s) if p50s else None


def _pair(was: dict[str, Any], now: dict[str, Any], get: Any) -> str:
    return f"{fmt(get(was))} → {fmt(get(now))}"


def _previous_section(previous: dict[str, Any], levels: list[dict[str, Any]]) -> list[str]:
    """The headline figures against the run this one replaced (its docs/benchmarks.json)."""
    before = {lv["concurrency"]: lv for lv in previous.get("levels", [])}
    rows = []
    for now in levels:
        was = before.get(now["concurrency"])
        if was is None:
            continue

        rows.append(
            [
                now["concurrency"],
                _pair(was, now, lambda lv: lv["lifecycle_per_s"]),
                _pair(was, now, lambda lv: lv["throughput_ratio"]),
                _pair(was, now, _mean_route_ratio),
                *(
                    _pair(was, now, lambda lv, part=part: lv["cpu"]["lifecycle_ms"].get(part))
                    for part in ("stack", "temporal", "worker", "api")
                ),
            ]
        )
    if not rows:
        return []
    return [
        "## Since the previous run",
        "",
        f"Against the run this one replaced: {previous.get('generated_at')}, commit "
        f"{previous.get('commit') or 'not recorded'}, projection database "
        f"{previous.get('database')}. Each ratio is to the ceiling measured in its own run.",
        "",
        *table(
            [
                "c",
                "JD lifecycles/s",
                "ratio to ceiling",
                "mean route p50 × bare update",
                "stack CPU ms/lifecycle",
                "dev server CPU ms",
                "worker CPU ms",
                "API CPU ms",
            ],
            rows,
        ),
    ]


def _level_section(level: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    c = level["concurrency"]
    bare, full = raw["ceiling"], raw["lifecycle"]
    out = [
        f"## Concurrency {c}",
        "",
        f"Ceiling: {bare['lifecycles']} bare lifecycles in {bare['wall_s']} s = "
        f"**{bare['lifecycles_per_s']}/s**; bare update round trip p50/p95/p99 "
        f"{fmt(bare['latency']['update_round_trip'].get('p50_ms'))} / "
        f"{fmt(bare['latency']['update_round_trip'].get('p95_ms'))} / "
        f"{fmt(bare['latency']['update_round_trip'].get('p99_ms'))} ms, start + first update "
        f"p50 {fmt(bare['latency']['place_equivalent'].get('p50_ms'))} ms.  ",
        f"Lifecycle: {full['lifecycles']} JD lifecycles in {full['wall_s']} s = "
        f"**{full['lifecycles_per_s']}/s** (ratio {fmt(level['throughput_ratio'])}); a whole "
        f"lifecycle p50 {fmt(full['lifecycle'].get('p50_ms'))} ms against "
        f"{fmt(bare['lifecycle'].get('p50_ms'))} ms bare"
        + (
            f"; **{level['failed']} failed**: {full['errors'] + bare['errors']}"
            if level["failed"]
            else ""
        )
        + ".",
        "",
    ]
    foreign = {
        phase: (raw[phase]["usage"].get(OTHER) or {}).get("cores") or 0.0
        for phase in ("ceiling", "lifecycle")
    }
    if max(foreign.values()) >= 0.1:
        out += [
            f"⚠ Other processes on the machine took {foreign['ceiling']:.2f} cores during the "
            f"ceiling and {foreign['lifecycle']:.2f} during the lifecycle phase of this level: "
            "the figures and ratios here are skewed by that.",
            "",
        ]
    rows = []
    for name, stats in full["routes"].items():
        r = level["route_ratios"][name]
        rows.append(
            [
                f"`{name}`",
                stats.get("p50_ms"),
                stats.get("p95_ms"),
                stats.get("p99_ms"),
                f"{fmt(r['p50'])} {ok(r['p50'] is not None and r['p50'] <= LATENCY_GOAL)}",
                r["p95"],
                r["p99"],
            ]
        )
    out += table(
        ["route", "p50 ms", "p95 ms", "p99 ms", "p50 ×bare", "p95 ×bare", "p99 ×bare"], rows
    )
    cpu, mem = level["cpu"], level["memory"]
    life, bare_cpu = cpu["lifecycle_ms"], cpu["ceiling_ms"]
    full_usage, bare_usage = full["usage"], bare["usage"]
    out += table(
        ["CPU ms per lifecycle", "dev server", "worker", "API", "SMTP", "stack total", "driver"],
        [
            [
                "JD lifecycle",
                life["temporal"],
                life["worker"],
                life["api"],
                life["mail"],
                life["stack"],
                life["driver"],
            ],
            [
                "ceiling",
                bare_cpu["temporal"],
                bare_cpu["worker"],
                "–",
                "–",
                bare_cpu["stack"],
                bare_cpu["driver"],
            ],
            [
                "ratio",
                cpu["ratio"]["temporal"],
                cpu["ratio"]["worker"],
                "–",
                "–",
                cpu["ratio"]["stack"],
                "–",
            ],
        ],
    )
    out += table(
        [
            "process",
            "cores busy (JD)",
            "peak RSS MB (JD)",
            "cores busy (ceiling)",
            "peak RSS MB (ceiling)",
        ],
        [
            [
                "dev server",
                full_usage.get("temporal", {}).get("cores"),
                mem["temporal_peak_mb"],
                bare_usage.get("temporal", {}).get("cores"),
                bare_usage.get("temporal", {}).get("peak_rss_mb"),
            ],
            [
                "worker / ceiling worker",
                full_usage.get("worker", {}).get("cores"),
                mem["worker_peak_mb"],
                bare_usage.get("ceiling-worker", {}).get("cores"),
                mem["ceiling_worker_peak_mb"],
            ],
            ["API", full_usage.get("api", {}).get("cores"), mem["api_peak_mb"], "–", "–"],
            [
                "driver",
                full_usage.get("driver", {}).get("cores"),
                full_usage.get("driver", {}).get("peak_rss_mb"),
                bare_usage.get("driver", {}).get("cores"),
                bare_usage.get("driver", {}).get("peak_rss_mb"),
            ],
            [
                "other processes on the machine",
                full_usage.get(OTHER, {}).get("cores"),
                "–",
                bare_usage.get(OTHER, {}).get("cores"),
                "–",
            ],
        ],
    )
    return out
