"""The report's sections on where the time goes and how far it scales: the profile, the
worker variants, the list endpoints at scale and the open orders' memory."""

from __future__ import annotations

from typing import Any

from bench.markdown import fmt, table


def profile_section(profile: dict[str, Any]) -> list[str]:
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
        out += table(
            ["where the time is spent (self time)", "share"],
            [[c["frame"], f"{c['share']:.1%}"] for c in data["categories"][:12]],
        )
        out += table(
            ["our code, inclusive", "share"],
            [[f"`{c['frame']}`", f"{c['share']:.1%}"] for c in data["project_inclusive"][:12]],
        )
        out += table(
            ["hottest functions (self)", "share"],
            [[f"`{c['frame']}`", f"{c['share']:.1%}"] for c in data["self"][:12]],
        )
    return out


def variant_section(variants: dict[str, Any], derived: dict[str, Any]) -> list[str]:
    out = [
        "## Variants (a change measured against the production worker or API)",
        "",
        f"The real worker swapped for `python -m bench.variants NAME`, or the API started with "
        f"other uvicorn options (`api-…`; bench/variants.py); "
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
                d.get("api_cpu_ms"),
                d.get("api_cpu_vs_baseline"),
                d["temporal_cpu_ms"],
                d["stack_cpu_ms"],
                round(sum(p50) / len(p50), 2) if p50 else None,
            ]
        )
    out += table(
        [
            "variant",
            "lifecycles/s",
            "× baseline",
            "worker CPU ms/lifecycle",
            "× baseline",
            "API CPU ms/lifecycle",
            "× baseline",
            "dev server CPU ms/lifecycle",
            "stack CPU ms/lifecycle",
            "mean route p50 × baseline",
        ],
        rows,
    )
    return out


def scale_out_section(raw: dict[str, Any], derived: list[dict[str, Any]]) -> list[str]:
    out = [
        f"## Scale-out: {raw['workers']} workers and {raw['apis']} API processes",
        "",
        "A second worker (same task queue) and a second API (same database) started beside "
        "the first ones; the driver hands lifecycles to the two APIs in turn. Every lifecycle "
        "is checked step by step (each answer's status, the invoice shipped at the end); "
        "*failed* counts those that were not. On this machine all processes share the same "
        "cores, so the curve shows what a second process costs and whether the work "
        "parallelises, not what a second machine would add.",
        "",
    ]
    rows = [
        [
            d["concurrency"],
            d["single_per_s"],
            d["lifecycle_per_s"],
            d["vs_single"],
            f"{d['lifecycles']} / {d['failed']}",
            f"{fmt(d.get('second_worker_share'))} / {fmt(d.get('second_api_share'))}",
            d["cpu_ms"]["workers"],
            d["cpu_ms"]["apis"],
            d["cpu_ms"]["temporal"],
            d["cpu_ms"]["stack"],
        ]
        for d in derived
    ]
    out += table(
        [
            "c",
            "1 worker + 1 API lifecycles/s",
            "2 + 2 lifecycles/s",
            "×",
            "lifecycles / failed",
            "second worker / API share of CPU",
            "workers CPU ms",
            "APIs CPU ms",
            "dev server CPU ms",
            "stack CPU ms",
        ],
        rows,
    )
    return out


def lists_section(lists: dict[str, Any]) -> list[str]:
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
            # A cursor is opaque and long: the table says where it came from instead.
            shown = {
                k: "(page 499's next_cursor)" if k == "cursor" else x
                for k, x in v["params"].items()
            }
            params = "&".join(f"{k}={x}" for k, x in shown.items()) or "(none)"
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
    out += table(header, rows)
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


def open_section(opened: dict[str, Any]) -> list[str]:
    out = [
        f"## {opened['started']:,} open order workflows",
        "",
        f"Started as the API places orders (start + `recorded` update) at "
        f"{opened['placed_per_s']}/s (place p50 {opened['place_latency'].get('p50_ms')} ms, "
        f"p99 {opened['place_latency'].get('p99_ms')} ms); {opened['failed']} failed. Once idle "
        f"(after {opened['settle_s']} s) the worker holds **{opened['worker_rss_mb']} MB** RSS "
        f"and the dev server {opened['temporal_rss_mb']} MB; Temporal counts "
        f"{fmt(opened['running_in_temporal'])} running ShopOrderWorkflow runs (these plus the "
        "lifecycles of the earlier phases, all waiting on their timers).",
        "",
    ]
    out += table(
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
