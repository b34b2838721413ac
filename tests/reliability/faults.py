"""The fault injectors: processes that can be SIGKILLed and restarted, a TCP proxy in front of
PostgreSQL that can be cut, and an SMTP server that refuses or goes away on request.

The stack is started exactly as `make run` starts it (devstack.processes): the Temporal dev
server with its file database, the worker, the API; each child can be killed and restarted
on its own. Proxy and SMTP server run in threads of their own, so they keep answering while
the test's event loop waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

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
from tests.lifecycle_harness import TEST_PAYLOAD_KEYS

START_TIMEOUT = 90.0


def fault_settings(data_dir: Path, database_url: str, smtp_port: int, **overrides: Any) -> Settings:
    """Settings of a stack of its own: free ports, its own data dir and task queue."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        temporal_port=free_port(),
        temporal_ui_port=free_port(),
        api_port=free_port(),
        worker_metrics_port=0,
        temporal_task_queue=f"reliability-{uuid.uuid4().hex[:8]}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        payload_keys=TEST_PAYLOAD_KEYS,
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
class FaultStack:
    """The processes of one fault test, each startable, killable and restartable by name."""

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

    def restart(self, name: str) -> None:
        process = self.processes[name]
        if process.alive():
            raise RuntimeError(f"{name} is still running")
        self.start(name, process.command, process.env)

    async def restart_temporal(self) -> float:
        """Start the dev server again on its file database; returns seconds until ready."""
        started = time.monotonic()
        self.restart("temporal")
        await asyncio.to_thread(
            wait_until, lambda: temporal_ready(self.settings), "Temporal dev server", START_TIMEOUT
        )
        return time.monotonic() - started

    def revive_dead(self) -> list[str]:
        """Restart any process that died on its own (a supervisor's job); returns their names."""
        dead = [name for name, p in self.processes.items() if not p.alive()]
        for name in dead:
            self.restart(name)
        return dead

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stack.stop()
        self.processes.clear()


@asynccontextmanager
async def running_stack(
    settings: Settings, *, worker_env: Mapping[str, str] | None = None
) -> AsyncIterator[FaultStack]:
    """Temporal dev server (file database), worker and API, stopped whatever happens. The
    readiness probes block, so they run in a thread (the caller's loop keeps running)."""
    stack = FaultStack(settings, settings.data_dir / "logs")

    def start() -> None:
        stack.start_temporal()
        stack.start_worker(**dict(worker_env or {}))
        stack.start_api()

    try:
        await asyncio.to_thread(start)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)


# --- a TCP proxy that can be cut -------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to an upstream server. ``cut()`` stops listening (new
    connections are refused) and resets every open connection, as a database that crashed
    or a network that dropped; ``restore()`` listens again on the same port."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.accepted = 0
        self.reset = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        self._open |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            # A reset or a cut ends the pipe like end of file; either way both sides close.
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            target.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open -= {writer, up_writer}

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
            self.reset += 1
        self._open.clear()

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


# --- an SMTP server that refuses or goes away ------------------------------------------------


@dataclass
class Delivery:
    outbox_key: str
    message_id: str
    subject: str
    at: float


class FlakySmtp:
    """aiosmtpd server keeping what it accepted. ``refuse(prefix, code, times)`` answers the
    next ``times`` messages whose X-Outbox-Key starts with ``prefix`` with ``code`` (e.g. 451
    or 554) at the end of DATA; ``stop()``/``start()`` take the port away and back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.deliveries: list[Delivery] = []
        self.refused: Counter[str] = Counter()
        self._plans: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> FlakySmtp:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, prefix: str, reply: str, times: int) -> None:
        with self._lock:
            self._plans[prefix] = [reply] * times

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        key = str(message.get("X-Outbox-Key", ""))
        with self._lock:
            for prefix, plan in self._plans.items():
                if key.startswith(prefix) and plan:
                    self.refused[key] += 1
                    return plan.pop(0)
            self.deliveries.append(
                Delivery(
                    key, str(message.get("Message-ID", "")), str(message["Subject"]), time.time()
                )
            )
        return "250 OK"

    def delivered(self, prefix: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.outbox_key.startswith(prefix)]
