"""The stack as processes, started exactly as `make run` starts it (devstack.processes):
the Temporal dev server with its file database, the worker and the API; e-mail goes to an
SMTP server of the caller's and the database is the caller's. Each child can be killed and
restarted on its own (the reliability suite does)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.processes import (
    Child,
    Stack,
    api_command,
    api_healthy,
    child_env,
    free_port,
    temporal_dev_server_command,
    temporal_ready,
    wait_until,
    worker_command,
)
from settings import Settings
from tests.support.keys import TEST_PAYLOAD_KEYS

START_TIMEOUT = 90.0


def stack_settings(
    data_dir: Path,
    database_url: str,
    smtp_port: int,
    queue_prefix: str,
    *,
    worker_metrics_port: int = 0,
    **overrides: Any,
) -> Settings:
    """Settings of a stack of its own: free ports, its own data dir and task queue; the
    worker serves no metrics unless given a port."""
    return Settings(
        environment="development",
        data_dir=data_dir,
        database_url=database_url,
        temporal_port=free_port(),
        temporal_ui_port=free_port(),
        api_port=free_port(),
        temporal_task_queue=f"{queue_prefix}-{uuid.uuid4().hex[:8]}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        payload_keys=TEST_PAYLOAD_KEYS,
        # The demo accounts sign in from 127.0.0.1 all session, some failing on purpose
        # (see api_settings in tests/conftest.py).
        sign_in_max_failures=100_000,
        sign_in_max_failures_per_address=100_000,
        worker_metrics_port=worker_metrics_port,
        # The whole session files its refunds as two demo buyers: their upload limits would
        # throttle it (tests/security tests the limits on their own).
        **({"proof_uploads_per_hour": 1_000_000, "proof_quota_bytes": 1 << 40} | overrides),
    )


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    stack: Stack
    child: Child

    @property
    def pid(self) -> int:
        return self.child.process.pid

    def alive(self) -> bool:
        return self.child.process.poll() is None


@dataclass
class ProcessStack:
    """The processes of one stack, each startable, killable and restartable by name."""

    settings: Settings
    log_dir: Path
    processes: dict[str, Process] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)

    def start(self, name: str, command: list[str], env: Mapping[str, str] | None = None) -> None:
        environment = dict(env) if env is not None else child_env(self.settings)
        stack = Stack(environment, log_dir=self.log_dir)
        child = stack.start(name, command)
        self.processes[name] = Process(name, command, environment, stack, child)

    def start_temporal(self) -> None:
        self.start("temporal", temporal_dev_server_command(self.settings))
        self.wait(lambda: temporal_ready(self.settings), "Temporal dev server")

    def start_worker(self, name: str = "worker", **overrides: str) -> None:
        self.start(name, worker_command(), child_env(self.settings) | overrides)

    def start_api(self, name: str = "api", port: int | None = None, **overrides: str) -> int:
        port = port or self.settings.api_port
        settings = self.settings.model_copy(update={"api_port": port})
        env = child_env(settings) | overrides
        self.start(name, api_command(settings), env)
        self.wait(lambda: api_healthy(port), f"API {name}")
        return port

    def wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            dead = [p for p in self.processes.values() if not p.alive()]
            if dead:
                tails = "\n".join(f"{p.name}: {p.child.log_tail()}" for p in dead)
                raise RuntimeError(f"while waiting for {what}, a process ended:\n{tails}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not come up within {START_TIMEOUT:.0f}s")
            time.sleep(0.2)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        process = self.processes[name]
        process.child.process.send_signal(signal.SIGKILL)
        process.child.process.wait()
        self.kills[name] += 1

    def pause(self, name: str) -> None:
        """SIGSTOP: the process stays, holding its connections, and does nothing, as a worker
        stuck in a long pause or on a frozen machine."""
        self.processes[name].child.process.send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.processes[name].child.process.send_signal(signal.SIGCONT)

    def restart(self, name: str) -> None:
        process = self.processes[name]
        if process.alive():
            raise RuntimeError(f"{name} is still running")
        self.start(name, process.command, process.env)

    async def restart_temporal(self) -> float:
        """Start the dev server again on its file database; returns seconds until ready."""
        return await self._restart_until_ready(
            "temporal", lambda: temporal_ready(self.settings), "Temporal dev server"
        )

    async def restart_api(self, name: str = "api") -> float:
        """Start the API again on its port; returns seconds until /api/health answers 200."""
        port = int(self.processes[name].env["API_PORT"])
        return await self._restart_until_ready(name, lambda: api_healthy(port), f"API {name}")

    async def _restart_until_ready(self, name: str, ready: Callable[[], bool], what: str) -> float:
        # The probe blocks, so it runs in a thread and the caller's loop keeps serving.
        started = time.monotonic()
        self.restart(name)
        await asyncio.to_thread(wait_until, ready, what, START_TIMEOUT)
        return time.monotonic() - started

    def revive_dead(self) -> list[str]:
        """Restart any process that died on its own (a supervisor's job); returns their names."""
        dead = [name for name, p in self.processes.items() if not p.alive()]
        for name in dead:
            self.restart(name)
        return dead

    def start_all(self, worker_env: Mapping[str, str] | None = None) -> None:
        """Temporal dev server (file database), worker and API, as `make run` starts them.
        The readiness probes block."""
        self.start_temporal()
        self.start_worker(**dict(worker_env or {}))
        self.start_api()

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stack.stop()
        self.processes.clear()


@asynccontextmanager
async def running_stack(
    settings: Settings, *, worker_env: Mapping[str, str] | None = None
) -> AsyncIterator[ProcessStack]:
    """Temporal dev server (file database), worker and API, stopped whatever happens. The
    readiness probes block, so they run in a thread (the caller's loop keeps running)."""
    stack = ProcessStack(settings, settings.data_dir / "logs")

    try:
        await asyncio.to_thread(stack.start_all, worker_env)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
