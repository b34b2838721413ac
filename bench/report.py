"""From the results JSON to the derived figures (ratios to the ceiling, goals) and to the
Markdown report. docs/benchmarks.md is only ever written from the JSON by this module."""

from __future__ import annotations

from typing import Any

from bench.findings import findings
from bench.goals import LATENCY_GOAL, THROUGHPUT_GOAL
from bench.meter import OTHER
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


# --- Markdown ---------------------------------------------------------------------------


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}{suffix}" if abs(value) < 100 else f"{value:,.0f}{suffix}"
    return f"{value}{suffix}"


def _ok(met: bool) -> str:
    return "✅" if met else "❌"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(_fmt(c) if not isinstance(c, str) else c for c in row) + " |"
        for row in rows
    ]
    return [*lines, ""]


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
        "changes), each with a validator, a lock and one no-op activity, through the same "
        "client recipe (pydantic converter + payload encryption), driven by the Temporal client "
        "at the same concurrency. **Lifecycle**: the guide's JD path over HTTP — "
        + ", ".join(f"`{r}`" for r in doc["routes"])
        + ". Closed loop: each of *c* users starts its next lifecycle when the last one ends.",
        "",
        "## Against the goals",
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
                f"{_fmt(level['throughput_ratio'])} {_ok(level['throughput_goal_met'])}",
                f"{level['routes_within_goal']}/{len(level['route_ratios'])}",
                f"{worst['route']} {_fmt(worst['p50'])}×",
                level["cpu"]["ratio"]["stack"],
                level["cpu"]["ratio"]["worker"],
                level["memory"]["worker_ratio"],
            ]
        )
    out += _table(
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
    if "profile" in doc:
        out += _profile_section(doc["profile"])
    if "variants" in doc:
        out += _variant_section(doc["variants"], summary.get("variants", {}))
    if "lists" in doc:
        out += _lists_section(doc["lists"])
    if "open_workflows" in doc:
        out += _open_section(doc["open_workflows"])
    out += findings(doc, summary)
    return "\n".join(out).rstrip() + "\n"


def _mean_route_ratio(level: dict[str, Any]) -> float | None:
    p50s = [r["p50"] for r in level.get("route_ratios", {}).values() if r.get("p50") is not None]
    return sum(p50s) / len(p50s) if p50s else None


def _pair(was: dict[str, Any], now: dict[str, Any], get: Any) -> str:
    return f"{_fmt(get(was))} → {_fmt(get(now))}"


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
        *_table(
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
        f"{_fmt(bare['latency']['update_round_trip'].get('p50_ms'))} / "
        f"{_fmt(bare['latency']['update_round_trip'].get('p95_ms'))} / "
        f"{_fmt(bare['latency']['update_round_trip'].get('p99_ms'))} ms, start + first update "
        f"p50 {_fmt(bare['latency']['place_equivalent'].get('p50_ms'))} ms.  ",
        f"Lifecycle: {full['lifecycles']} JD lifecycles in {full['wall_s']} s = "
        f"**{full['lifecycles_per_s']}/s** (ratio {_fmt(level['throughput_ratio'])}); a whole "
        f"lifecycle p50 {_fmt(full['lifecycle'].get('p50_ms'))} ms against "
        f"{_fmt(bare['lifecycle'].get('p50_ms'))} ms bare"
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
                f"{_fmt(r['p50'])} {_ok(r['p50'] is not None and r['p50'] <= LATENCY_GOAL)}",
                r["p95"],
                r["p99"],
            ]
        )
    out += _table(
        ["route", "p50 ms", "p95 ms", "p99 ms", "p50 ×bare", "p95 ×bare", "p99 ×bare"], rows
    )
    cpu, mem = level["cpu"], level["memory"]
    life, bare_cpu = cpu["lifecycle_ms"], cpu["ceiling_ms"]
    full_usage, bare_usage = full["usage"], bare["usage"]
    out += _table(
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
    out += _table(
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


def _profile_section(profile: dict[str, Any]) -> list[str]:
    if "processes" not in profile:
        return ["## Profile", "", f"Skipped: {profile.get('skipped')}", ""]
    out = [
        "## Profile of the hot path",
        "",
        f"py-spy attached to the running worker and API ({profile['lifecycles']} lifecycles at "
        f"c={profile['concurrency']}, {profile['lifecycles_per_s_while_profiled']}/s while "
        "sampled). Shares are of the samples of each process in which a thread was running.",
        "",
    ]
    for name, data in profile["processes"].items():
        out += [f"### {name}: {data['samples']} samples", ""]
        out += _table(
            ["where the time is spent (self time)", "share"],
            [[c["frame"], f"{c['share']:.1%}"] for c in data["categories"][:12]],
        )
        out += _table(
            ["our code, inclusive", "share"],
            [[f"`{c['frame']}`", f"{c['share']:.1%}"] for c in data["project_inclusive"][:12]],
        )
        out += _table(
            ["hottest functions (self)", "share"],
            [[f"`{c['frame']}`", f"{c['share']:.1%}"] for c in data["self"][:12]],
        )
    return out


def _variant_section(variants: dict[str, Any], derived: dict[str, Any]) -> list[str]:
    out = [
        "## Worker variants (a change measured against the production worker)",
        "",
        f"The real worker swapped for `python -m bench.variants NAME` (bench/variants.py); "
        f"{variants['lifecycles']} lifecycles each at c={variants['concurrency']}, baseline "
        "measured in the same phase.",
        "",
    ]
    rows = []
    for name, d in derived.items():
        p50 = [v for v in d["route_p50_vs_baseline"].values() if v is not None]
        rows.append(
            [
                f"`{name}`",
                d["lifecycles_per_s"],
                d["throughput_vs_baseline"],
                d["worker_cpu_ms"],
                d["worker_cpu_vs_baseline"],
                d["temporal_cpu_ms"],
                d["stack_cpu_ms"],
                round(sum(p50) / len(p50), 2) if p50 else None,
            ]
        )
    out += _table(
        [
            "variant",
            "lifecycles/s",
            "× baseline",
            "worker CPU ms/lifecycle",
            "× baseline",
            "dev server CPU ms/lifecycle",
            "stack CPU ms/lifecycle",
            "mean route p50 × baseline",
        ],
        rows,
    )
    return out


def _lists_section(lists: dict[str, Any]) -> list[str]:
    out = [
        f"## List endpoints with {lists['orders_in_database']:,} orders",
        "",
        f"{lists['loaded']:,} projection rows bulk-loaded (orders, invoice applications, "
        f"refunds; states made by domain.lifecycle) in {lists['load_s']} s. "
        f"{lists['requests_per_endpoint']} sequential requests per endpoint, cycling through "
        "the variants below (after one unmeasured request of each).",
        "",
    ]
    indexed = lists.get("with_indexes", {}).get("endpoints", {})
    rows = []
    for endpoint, data in lists["endpoints"].items():
        after = indexed.get(endpoint, {})
        rows.append(
            [
                f"**{endpoint}**",
                "all",
                "",
                data["all"]["p50_ms"],
                data["all"]["p99_ms"],
                after.get("all", {}).get("p50_ms"),
                after.get("all", {}).get("p99_ms"),
                data["all"]["count"],
            ]
        )
        for name, v in data["variants"].items():
            params = "&".join(f"{k}={x}" for k, x in v["params"].items()) or "(none)"
            w = after.get("variants", {}).get(name, {})
            rows.append(
                [
                    "",
                    name,
                    f"`{params}` → {v['total']:,}",
                    v["p50_ms"],
                    v["p99_ms"],
                    w.get("p50_ms"),
                    w.get("p99_ms"),
                    v["count"],
                ]
            )
    header = ["endpoint", "variant", "query → total", "p50 ms", "p99 ms"]
    header += ["p50 ms with indexes", "p99 ms with indexes", "n"]
    if not indexed:  # no candidate indexes tried in this run
        header = [*header[:5], "n"]
        rows = [[*row[:5], row[-1]] for row in rows]
    out += _table(header, rows)
    if indexed:
        out += [
            "Candidate indexes (created on this run's database only, then the same "
            "requests again): "
            + "; ".join(f"`{i}`" for i in lists["with_indexes"]["indexes"])
            + ".",
            "",
        ]
    api = lists["usage"].get("api", {})
    out += [
        f"API while listing: {api.get('cores')} cores busy, peak RSS {api.get('peak_rss_mb')} MB.",
        "",
    ]
    return out


def _open_section(opened: dict[str, Any]) -> list[str]:
    out = [
        f"## {opened['started']:,} open order workflows",
        "",
        f"Started as the API places orders (start + `recorded` update) at "
        f"{opened['placed_per_s']}/s (place p50 {opened['place_latency'].get('p50_ms')} ms, "
        f"p99 {opened['place_latency'].get('p99_ms')} ms); {opened['failed']} failed. Once idle "
        f"(after {opened['settle_s']} s) the worker holds **{opened['worker_rss_mb']} MB** RSS "
        f"and the dev server {opened['temporal_rss_mb']} MB; Temporal counts "
        f"{_fmt(opened['running_in_temporal'])} running ShopOrderWorkflow runs (these plus the "
        "lifecycles of the earlier phases, all waiting on their timers).",
        "",
    ]
    out += _table(
        ["open runs", "worker RSS MB", "dev server RSS MB"],
        [[c["open"], c["worker_rss_mb"], c["temporal_rss_mb"]] for c in opened["checkpoints"]],
    )
    out += [
        f"The worker keeps at most {opened['max_cached_workflows']} runs in its sticky cache "
        "(temporalio's default, which worker.py keeps), least recently used first out; an "
        "evicted run costs no worker memory and is replayed from history when its timer "
        "fires or an update arrives. Worker memory therefore plateaus once the cache is "
        "full; the slope before that is the memory of one cached run.",
        "",
    ]
    return out
