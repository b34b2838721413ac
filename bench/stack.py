"""The stack under test, started the way `make run` starts it (devstack): the Temporal dev
server with its file database and WAL pragmas, migrations + catalog + demo accounts, the
local SMTP catcher, the worker and the API, on free ports in a temporary DATA_DIR; plus
the ceiling worker, which serves the bare workflow on a task queue of its own.

PostgreSQL is used when DATABASE_URL points at it, in a database of the bench's own made on
that server (and dropped afterwards), so 100,000 bulk-loaded orders never land in real data.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devstack.processes import (
    Child,
    Stack,
    api_command,
    api_healthy,
    child_env,
    free_port,
    wait_until,
    worker_command,
)
from devstack.system import start_system
from settings import Settings
from tests.support.databases import create_database, drop_database
from workflows.client import payload_keys

CEILING_QUEUE = "bench-ceiling"


def _quietly(_line: str) -> None:
    """The bench's own output says what it measures, not what starts."""


def ceiling_worker_command() -> list[str]:
    return [sys.executable, "-m", "bench.ceiling_worker", CEILING_QUEUE]


@dataclass
class BenchStack:
    settings: Settings
    stack: Stack
    dropped_database: str | None = None
    server_url: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    @property
    def database_kind(self) -> str:
        return (
            "postgresql"
            if self.settings.effective_database_url.startswith("postgres")
            else "sqlite"
        )

    def child(self, name: str) -> Child:
        return next(c for c in self.stack.children if c.name == name)

    def pids(self) -> dict[str, int]:
        return {c.name: c.process.pid for c in self.stack.children if c.process.poll() is None}

    def replace(self, name: str, command: list[str]) -> Child:
        """Stop one child and start ``command`` under its name (a worker variant)."""
        self.retire(name)
        return self.stack.start(name, command)

    def retire(self, name: str) -> None:
        """Stop one child and forget it (the scale-out's extra processes)."""
        old = self.child(name)
        old.process.terminate()
        try:
            old.process.wait(30)
        except subprocess.TimeoutExpired:
            old.process.kill()
            old.process.wait()
        self.stack.children.remove(old)

    def add_worker(self, name: str) -> Child:
        """Another worker process on the same task queue and database (its own metrics
        port: two cannot bind one)."""
        metrics = f"WORKER_METRICS_PORT={free_port()}"
        return self.stack.start(name, ["env", metrics, *worker_command()])

    def add_api(self, name: str) -> str:
        """Another API process on a port of its own; its base URL once it is healthy."""
        port = free_port()
        self.stack.start(name, api_command(self.settings.model_copy(update={"api_port": port})))
        wait_until(lambda: api_healthy(port), name, 90, self.stack)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.stack.stop()
        if self.dropped_database and self.server_url:
            asyncio.run(drop_database(self.server_url, self.dropped_database))


def start(data_dir: Path, database_url: str) -> BenchStack:
    """Everything `make run` starts, on free ports, state under ``data_dir``."""
    server_url: str | None = None
    database_name: str | None = None
    if database_url.startswith("postgres"):
        server_url = database_url
        database_url, database_name = asyncio.run(create_database(server_url, "bench_"))
    elif database_url:
        raise SystemExit(
            "the bench runs on PostgreSQL (DATABASE_URL=postgresql+asyncpg://…) "
            "or on the default SQLite file; got another URL"
        )
    settings = Settings(
        environment="development",  # the demo accounts sign the bench's buyers in
        data_dir=data_dir,
        database_url=database_url,
        temporal_address="",  # always the local dev server: one machine, one run
        temporal_port=free_port(),
        temporal_ui_port=free_port(),
        api_port=free_port(),
        worker_metrics_port=free_port(),
        smtp_host="",  # the local catcher, as `make run` starts it
        smtp_port=free_port(),
        # One demo buyer files every refund of the run: their upload limits would throttle it.
        proof_uploads_per_hour=10_000_000,
        proof_quota_bytes=1 << 40,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    payload_keys(settings)  # the development key, made once before any child reads it
    stack = Stack(child_env(settings), log_dir=data_dir.resolve() / "logs")
    bench = BenchStack(settings, stack, database_name, server_url)
    api_url = f"http://127.0.0.1:{settings.api_port}"
    try:
        start_system(stack, settings, api_url, say=_quietly)
        stack.start("ceiling-worker", ceiling_worker_command())
    except BaseException:
        bench.stop()
        raise
    return bench
