"""`python -m bench` (what `make bench` runs): start the stack, measure the ceiling and the
lifecycle at each concurrency, profile, try the worker variants, measure scale, and write
docs/benchmarks.json and docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from temporalio.client import Client

from bench import capacity, ceiling, footprint, lifecycle, orders, report, scale, summary, variants
from bench.ceiling_workflow import ACTIVITY, LOCAL, WRITES
from bench.config import Config, parse
from bench.lifecycle import UPDATES_PER_LIFECYCLE, Session
from bench.meter import Meter
from bench.profile import Profiler
from bench.stack import BenchStack, start
from devstack.processes import api_command, api_healthy, wait_until, worker_command
from domain.order import OrderState
from workflows.client import connect

DRIVER = "driver"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Run:
    """One bench run over a started stack; every phase adds to ``results``."""

    def __init__(self, config: Config, bench: BenchStack, client: Client, session: Session):
        self.config = config
        self.bench = bench
        self.client = client
        self.session = session
        self.results: dict[str, Any] = {}

    def meter(self, *names: str) -> Meter:
        pids = {n: p for n, p in self.bench.pids().items() if n in names}
        pids[DRIVER] = os.getpid()
        return Meter(pids)

    async def ceiling_level(self, concurrency: int, total: int, writes: str) -> dict[str, Any]:
        meter = self.meter("temporal", "ceiling-worker")
        meter.start()
        level = await ceiling.run_level(
            self.client,
            updates=UPDATES_PER_LIFECYCLE,
            total=total,
            concurrency=concurrency,
            writes=writes,
        )
        level["usage"] = meter.stop()
        return level

    async def lifecycle_level(self, concurrency: int, total: int) -> dict[str, Any]:
        meter = self.meter("temporal", "worker", "api", "mail")
        meter.start()
        level = await lifecycle.run_level(self.session, total=total, concurrency=concurrency)
        level["usage"] = meter.stop()
        return level

    async def levels(self) -> None:
        config = self.config
        say(f"warm-up: {config.warmup} bare (each ceiling) and {config.warmup} full lifecycles")
        for writes in WRITES:
            await ceiling.run_level(
                self.client,
                updates=UPDATES_PER_LIFECYCLE,
                total=config.warmup,
                concurrency=4,
                writes=writes,
            )
        await lifecycle.run_level(self.session, total=config.warmup, concurrency=4)
        levels = []
        # Ceiling and lifecycle alternate per level, so both see the same state of the
        # server (its database grows during the run).
        for concurrency in config.concurrency:
            total = config.total_for(concurrency)
            say(f"ceiling   c={concurrency}: {total} bare lifecycles, local activity writes")
            bare = await self.ceiling_level(concurrency, total, LOCAL)
            say(f"  {bare['lifecycles_per_s']}/s")
            say(f"ceiling   c={concurrency}: {total} bare lifecycles, regular activity writes")
            bare_activity = await self.ceiling_level(concurrency, total, ACTIVITY)
            say(f"  {bare_activity['lifecycles_per_s']}/s")
            say(f"lifecycle c={concurrency}: {total} JD lifecycles over HTTP")
            full = await self.lifecycle_level(concurrency, total)
            say(f"  {full['lifecycles_per_s']}/s ({full['failed']} failed)")
            levels.append(
                {
                    "concurrency": concurrency,
                    "ceiling": bare,
                    "ceiling_activity": bare_activity,
                    "lifecycle": full,
                }
            )
        self.results["levels"] = levels

    async def footprint(self) -> None:
        """What an order leaves behind, while every order in the run has walked the JD path
        (before the bulk load and the open orders)."""
        say("footprint: history and projection rows of the JD orders so far")
        self.results["footprint"] = {
            "temporal": await footprint.temporal_per_order(self.client),
            "database": await footprint.database_per_order(
                self.bench.settings.effective_database_url
            ),
        }

    async def scale_out(self) -> None:
        """The same JD lifecycles with a second worker and a second API process (same task
        queue, same database), the driver taking the two APIs in turn; compared with the
        single-process level of the same concurrency measured above."""
        levels = self.config.scale_out
        if not levels:
            return
        say("scale-out: a second worker and a second API process")
        self.bench.add_worker("worker-2")
        url = self.bench.add_api("api-2")
        measured = []
        try:
            async with lifecycle.client(url, max(levels)) as http:
                password = self.bench.settings.demo_password.get_secret_value()
                second = await Session.open(http, password)
                sessions = [self.session, second]
                await lifecycle.run_level(sessions, total=4, concurrency=2)  # both warm
                for concurrency in levels:
                    total = self.config.total_for(concurrency)
                    say(f"scale-out c={concurrency}: {total} JD lifecycles, 2 workers + 2 APIs")
                    meter = self.meter("temporal", "worker", "worker-2", "api", "api-2", "mail")
                    meter.start()
                    level = await lifecycle.run_level(
                        sessions, total=total, concurrency=concurrency
                    )
                    level["usage"] = meter.stop()
                    say(f"  {level['lifecycles_per_s']}/s ({level['failed']} failed)")
                    measured.append(level)
        finally:
            self.bench.retire("api-2")
            self.bench.retire("worker-2")
        self.results["scale_out"] = {"workers": 2, "apis": 2, "levels": measured}

    async def profile(self) -> None:
        config = self.config
        if config.profile_lifecycles <= 0:
            return
        pids = {n: p for n, p in self.bench.pids().items() if n in ("worker", "api")}
        profiler = Profiler(pids, self.bench.settings.data_dir / "profiles")
        say(
            f"profile: {config.profile_lifecycles} lifecycles at c={config.profile_concurrency}"
            " with py-spy on the worker and the API"
        )
        if not profiler.start():
            self.results["profile"] = {
                "skipped": "py-spy is not installed (make bench installs it)"
            }
            return
        await asyncio.sleep(1)  # py-spy attaches
        level = await lifecycle.run_level(
            self.session, total=config.profile_lifecycles, concurrency=config.profile_concurrency
        )
        self.results["profile"] = {
            "concurrency": config.profile_concurrency,
            "lifecycles": level["lifecycles"],
            "lifecycles_per_s_while_profiled": level["lifecycles_per_s"],
            "processes": profiler.stop(),
        }

    async def variants(self) -> None:
        config = self.config
        if not config.variants:
            return
        concurrency, total = config.profile_concurrency, config.variant_lifecycles
        measured: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for name in ["baseline", *config.variants]:
            process = "api" if variants.is_api(name) else "worker"
            try:
                if name != "baseline":
                    swap = self._swap(process, variants.command(name, self.bench.settings))
                    await asyncio.wait_for(swap, 180)
                say(f"variant {name}: {total} lifecycles at c={concurrency}")
                level = await asyncio.wait_for(self.lifecycle_level(concurrency, total), 900)
                say(f"  {level['lifecycles_per_s']}/s")
                if level["failed"]:
                    raise RuntimeError(f"{level['failed']} lifecycles failed: {level['errors']}")
                measured[name] = level
            except (TimeoutError, RuntimeError) as error:
                say(f"  variant {name} did not run through: {error}")
                failed[name] = str(error)[:500]
            finally:
                if name != "baseline":
                    original = (
                        api_command(self.bench.settings) if process == "api" else worker_command()
                    )
                    await self._swap(process, original)
        self.results["variants"] = {
            "concurrency": concurrency,
            "lifecycles": total,
            "measured": measured,
        }

    async def _swap(self, process: str, command: list[str]) -> None:
        child = self.bench.replace(process, command)
        await asyncio.sleep(3)
        if child.process.poll() is not None:  # a variant that cannot start says so at once
            raise RuntimeError(f"{process} variant exited: {child.log_tail(5)}")
        if process == "api":
            port = self.bench.settings.api_port
            await asyncio.to_thread(
                wait_until, lambda: api_healthy(port), "API variant", 90, self.bench.stack
            )
        # A few unmeasured lifecycles: the new worker is polling and has warmed up.
        await lifecycle.run_level(self.session, total=4, concurrency=2)

    async def scale(self) -> None:
        config = self.config
        if config.list_orders > 0:
            say(f"scale: bulk-loading {config.list_orders} orders")
            loaded = await scale.bulk_load(
                self.bench.settings.effective_database_url, config.list_orders
            )
            say(f"  loaded in {loaded['load_s']}s; timing the list endpoints")
            meter = self.meter("api")
            meter.start()
            lists = await scale.time_lists(self.session, requests=config.list_requests)
            self.results["lists"] = {
                **loaded,
                "requests_per_endpoint": config.list_requests,
                "endpoints": lists,
                "usage": meter.stop(),
            }
            # Candidate indexes, tried on this run's own database: the same requests again,
            # so a fix is measured before anyone writes its migration.
            if scale.INDEX_EXPERIMENT:
                say("  again with the candidate indexes")
                indexes = await scale.add_indexes(self.bench.settings.effective_database_url)
                again = await scale.time_lists(self.session, requests=config.list_requests)
                self.results["lists"]["with_indexes"] = {"indexes": indexes, "endpoints": again}
        if config.open_workflows > 0:
            say(f"scale: {config.open_workflows} open order workflows")
            pids = self.bench.pids()
            meter = self.meter("temporal", "worker")
            meter.start()
            opened = await scale.open_workflows(
                self.client,
                self.bench.settings,
                count=config.open_workflows,
                concurrency=config.open_concurrency,
                worker_pid=pids["worker"],
                temporal_pid=pids["temporal"],
            )
            opened["usage"] = meter.stop()
            self.results["open_workflows"] = opened
            say(f"  worker RSS {opened['worker_rss_mb']} MB with {opened['started']} open")


def state_sizes() -> dict[str, Any]:
    """JSON size of a JD order's state when placed and once its invoice is shipped: what
    every transition sends to its persistence activity and gets back from its update."""
    path = orders.stages(datetime.now(UTC))[: len(orders.PATHS[0][1]) + 1]
    shipped = path[-1].model_dump_json()
    rounds = 200
    validate_s = timeit.timeit(lambda: OrderState.model_validate_json(shipped), number=rounds)
    return {
        "placed": len(path[0].model_dump_json()),
        "invoice_shipped": len(shipped),
        # What the API's ownership check pays to read the stored state (JSON + validation).
        "validate_ms": round(validate_s / rounds * 1000, 4),
    }


def commit() -> str | None:
    """The commit measured, with "+changes" when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def previous_run(path: Path) -> dict[str, Any] | None:
    """The headline figures of the run this one replaces, for the before/after table."""
    if not path.exists():
        return None
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return {
        "generated_at": earlier.get("generated_at"),
        "commit": earlier.get("commit"),
        "database": earlier.get("database"),
        "levels": (earlier.get("summary") or {}).get("levels", []),
    }


def capacity_path(report_md: Path) -> Path:
    """capacity.md beside benchmarks.md (capacity-sqlite.md beside benchmarks-sqlite.md)."""
    name = report_md.name.replace("benchmarks", "capacity", 1)
    if name == report_md.name:
        name = f"{report_md.stem}-capacity.md"
    return report_md.with_name(name)


def beside_run(path: Path) -> dict[str, Any]:
    """The goal figures of another run (the other database), for the report's side table."""
    other = json.loads(path.read_text(encoding="utf-8"))
    derived = other.get("summary") or summary.summarise(other)
    return {
        "file": path.name,
        "generated_at": other.get("generated_at"),
        "commit": other.get("commit"),
        "database": other.get("database"),
        "levels": derived.get("levels", []),
        "lists_goal": derived.get("lists_goal"),
        "open_goal": derived.get("open_goal"),
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


async def measure(config: Config, bench: BenchStack) -> dict[str, Any]:
    client = await connect(bench.settings)
    top = max([*config.concurrency, config.profile_concurrency, config.open_concurrency])
    async with lifecycle.client(bench.api_url, top) as http:
        session = await Session.open(http, bench.settings.demo_password.get_secret_value())
        run = Run(config, bench, client, session)
        await run.levels()
        await run.footprint()
        await run.scale_out()
        await run.profile()
        await run.variants()
        await run.scale()
        return run.results


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["render"]:
        # Re-write the Markdown from a JSON file (the report is always made from the JSON).
        source = Path(argv[1]) if len(argv) > 1 else Config().out_json
        target = Path(argv[2]) if len(argv) > 2 else Config().out_md
        document = json.loads(source.read_text())
        target.write_text(report.render(document), encoding="utf-8")
        capacity_path(target).write_text(capacity.render(document), encoding="utf-8")
        return 0
    config = parse(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="shop-orders-bench-", dir=config.data_dir))
    say(f"starting the stack in {data_dir}")
    started = time.perf_counter()
    bench = start(data_dir, config.database_url)
    say(f"stack up: {bench.database_kind}, API {bench.api_url}")
    try:
        results = asyncio.run(measure(config, bench))
    finally:
        bench.stop()
        if not config.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "duration_s": round(time.perf_counter() - started, 1),
        "command": "python -m bench " + " ".join(argv),
        "config": config.public(),
        "database": bench.database_kind,
        "machine": machine(),
        "updates_per_lifecycle": UPDATES_PER_LIFECYCLE,
        "routes": lifecycle.JD_PATH,
        "state_bytes": state_sizes(),
        **results,
    }
    if config.beside is not None and config.beside.exists():
        document["beside"] = beside_run(config.beside)
    previous = previous_run(config.out_json)
    if previous is not None:
        document["previous"] = previous
    document["summary"] = summary.summarise(document)
    config.out_json.parent.mkdir(parents=True, exist_ok=True)
    config.out_json.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    config.out_md.write_text(report.render(document), encoding="utf-8")
    capacity_md = capacity_path(config.out_md)
    capacity_md.write_text(capacity.render(document), encoding="utf-8")
    say(f"wrote {config.out_json}, {config.out_md} and {capacity_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
