"""The processes of the dev stack: their command lines, their environment, starting and
stopping them, and waiting until each answers. `make run` and the end-to-end tests both
start the Temporal dev server, the worker and the API through these functions."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType

from settings import Settings
from workflows.client import connect
from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).resolve().parents[1]

_CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}

# name -> type as `temporal operator search-attribute create --type` spells it. Derived from
# the workflow's typed keys, so the dev server always registers exactly what runs upsert.
SEARCH_ATTRIBUTES: dict[str, str] = {
    key.name: _CLI_TYPE_NAMES[key.indexed_value_type] for key in ALL_KEYS
}


class ChildExited(RuntimeError):
    """A supervised process ended while it was expected to run."""

    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} exited with code {child.returncode}")
        self.child = child


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path | None
    started_at: datetime

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def executable(name: str) -> str:
    """A console script of this environment (the venv's bin/), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found beside {sys.executable} nor on PATH")
    return found


def temporal_dev_server_command(settings: Settings) -> list[str]:
    command = [
        executable("temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str((settings.data_dir / "temporal.db").resolve()),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--ip",
        "127.0.0.1",
        "--namespace",
        settings.temporal_namespace,
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    for name, type_name in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={type_name}"]
    return command


def worker_command() -> list[str]:
    return [sys.executable, str(ROOT / "worker.py")]


def api_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
    ]


def child_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with every setting spelled out, so a
    child reads exactly the settings it was given: DATA_DIR absolute, DATABASE_URL,
    TEMPORAL_ADDRESS and SMTP_HOST resolved."""
    env = dict(os.environ if base is None else base)
    values = settings.model_dump()
    values["data_dir"] = settings.data_dir.resolve()
    values["database_url"] = settings.effective_database_url
    values["temporal_address"] = settings.effective_temporal_address
    for field, value in values.items():
        name = field.upper()
        if value is None:
            env.pop(name, None)
        elif isinstance(value, bool):
            env[name] = "true" if value else "false"
        else:
            env[name] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_child(
    name: str, command: Sequence[str], env: Mapping[str, str], log_path: Path | None = None
) -> Child:
    """Start ``command`` in ROOT. Output goes to ``log_path`` (appended) or to our own.

    The child gets a process group of its own, so a Ctrl-C in the terminal reaches only
    the supervisor, which then stops the children in order.
    """
    started_at = datetime.now(UTC)
    if log_path is None:
        process = subprocess.Popen(list(command), cwd=ROOT, env=dict(env), process_group=0)
    else:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            log.write(f"--- {name} started {started_at:%Y-%m-%d %H:%M:%S}Z ---\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(command),
                cwd=ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
    return Child(name, process, log_path, started_at)


async def stop_children(children: Sequence[Child], timeout: float = 10.0) -> None:
    """Stop all of them at once (each SIGTERM, then SIGKILL after ``timeout``)."""
    await asyncio.gather(*(asyncio.to_thread(child.stop, timeout) for child in children))


def _check_alive(watch: Sequence[Child]) -> None:
    for child in watch:
        if not child.alive:
            raise ChildExited(child)


async def wait_for_temporal(
    settings: Settings, *, watch: Sequence[Child] = (), timeout: float = 60.0
) -> Client:
    """Connect (with the project's data converter) once the frontend answers."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        _check_alive(watch)
        try:
            return await connect(settings)
        except RuntimeError:
            # The SDK raises RuntimeError("Failed client connect: ...") while nothing listens.
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.25)


async def wait_for_worker(
    client: Client,
    task_queue: str,
    *,
    since: datetime,
    watch: Sequence[Child] = (),
    timeout: float = 60.0,
) -> None:
    """Until a worker has polled ``task_queue`` for workflow tasks after ``since``."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    # Poll times are second-granular on some servers.
    since = since - timedelta(seconds=1)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        _check_alive(watch)
        response = await client.workflow_service.describe_task_queue(request)
        if any(p.last_access_time.ToDatetime(tzinfo=UTC) >= since for p in response.pollers):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no worker polled task queue {task_queue} within {timeout:.0f}s")
        await asyncio.sleep(0.25)


async def wait_for_http(
    url: str, *, watch: Sequence[Child] = (), timeout: float = 60.0
) -> None:
    """Until GET ``url`` answers 200."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = "no answer"
    async with httpx.AsyncClient(timeout=5.0) as http:
        while True:
            _check_alive(watch)
            try:
                response = await http.get(url)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.TransportError as error:
                last = repr(error)
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s ({last})")
            await asyncio.sleep(0.25)
