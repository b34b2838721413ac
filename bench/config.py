"""What one bench run does: sizes, concurrency levels and where the results go."""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devstack.processes import ROOT


@dataclass
class Config:
    lifecycles: int = 100
    concurrency: list[int] = field(default_factory=lambda: [1, 8, 32])
    warmup: int = 8
    profile_concurrency: int = 8
    profile_lifecycles: int = 60
    variants: list[str] = field(
        default_factory=lambda: ["sandboxed", "asyncio", "long-counters", "api-plain", "api-uvloop"]
    )
    variant_lifecycles: int = 100
    list_orders: int = 100_000
    list_requests: int = 200
    open_workflows: int = 10_000
    open_concurrency: int = 64
    # Levels run again with 2 worker and 2 API processes (same task queue, same database).
    scale_out: list[int] = field(default_factory=lambda: [8, 32])
    database_url: str = ""
    # Another run's JSON (the SQLite run beside the PostgreSQL reference) shown in the report.
    beside: Path | None = None
    data_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    keep_data: bool = False
    quick: bool = False
    out_json: Path = ROOT / "docs" / "benchmarks.json"
    out_md: Path = ROOT / "docs" / "benchmarks.md"

    def total_for(self, concurrency: int) -> int:
        """Lifecycles at a level: at least four rounds of every user, so ramp-up and the
        last stragglers weigh little on the rate."""
        return max(self.lifecycles, 4 * concurrency)

    def public(self) -> dict[str, Any]:
        values = asdict(self)
        for key in ("data_dir", "out_json", "out_md", "beside"):
            values[key] = None if values[key] is None else str(values[key])
        values["database_url"] = "postgresql (own database)" if self.database_url else "sqlite"
        return values


QUICK = {
    "lifecycles": 12,
    "concurrency": [1, 4],
    "warmup": 4,
    "profile_lifecycles": 16,
    "profile_concurrency": 4,
    "variant_lifecycles": 16,
    "list_orders": 5_000,
    "list_requests": 45,
    "open_workflows": 300,
    "open_concurrency": 16,
    "scale_out": [4],
}


def _levels(text: str) -> list[int]:
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return levels


def parse(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Lifecycle throughput and latency against the engine's own ceiling.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, a couple of minutes; writes under the temp dir",
    )
    parser.add_argument("--lifecycles", type=int, help="lifecycles per level (default 100)")
    parser.add_argument("--concurrency", type=_levels, help="levels, e.g. 1,8,32 (default)")
    parser.add_argument("--warmup", type=int, help="unmeasured lifecycles before the levels")
    parser.add_argument("--profile-concurrency", type=int)
    parser.add_argument("--profile-lifecycles", type=int, help="0 skips the profile")
    parser.add_argument(
        "--variants",
        type=lambda t: [v for v in t.split(",") if v],
        help="worker variants to measure (bench/variants.py); '' for none",
    )
    parser.add_argument("--variant-lifecycles", type=int)
    parser.add_argument("--list-orders", type=int, help="orders bulk-loaded; 0 skips")
    parser.add_argument("--list-requests", type=int, help="requests per list endpoint")
    parser.add_argument("--open-workflows", type=int, help="open runs to start; 0 skips")
    parser.add_argument("--open-concurrency", type=int)
    parser.add_argument(
        "--scale-out",
        type=lambda t: _levels(t) if t.strip() else [],
        help="levels run again with 2 workers and 2 APIs, e.g. 8,32 (default); '' for none",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server URL (a database of its own is made there); "
        "default DATABASE_URL, else SQLite as `make run`",
    )
    parser.add_argument(
        "--beside",
        type=Path,
        help="another run's JSON (e.g. the SQLite run) whose goal figures the report shows beside",
    )
    parser.add_argument("--data-dir", type=Path, help="parent of the run's temporary DATA_DIR")
    parser.add_argument("--keep-data", action="store_true", help="keep DATA_DIR (logs, dbs)")
    parser.add_argument("--out-json", type=Path)
    parser.add_argument("--out-md", type=Path)
    args = parser.parse_args(argv)
    config = Config(quick=args.quick, database_url=args.database_url, keep_data=args.keep_data)
    if args.quick:
        for key, value in QUICK.items():
            setattr(config, key, value)
        # A quick run is a smoke test: it does not overwrite the committed report.
        quick_dir = Path(tempfile.gettempdir()) / "shop-orders-bench-quick"
        config.out_json = quick_dir / "benchmarks.json"
        config.out_md = quick_dir / "benchmarks.md"
    for key in (
        "lifecycles",
        "concurrency",
        "warmup",
        "profile_concurrency",
        "profile_lifecycles",
        "variants",
        "variant_lifecycles",
        "list_orders",
        "list_requests",
        "open_workflows",
        "open_concurrency",
        "scale_out",
        "beside",
        "data_dir",
        "out_json",
        "out_md",
    ):
        value = getattr(args, key)
        if value is not None:
            setattr(config, key, value)
    return config
