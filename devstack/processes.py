"""The processes of the dev stack: command lines, environment, starting, watching and
stopping them. `make run` (devstack/__main__.py) and the end-to-end tests both start the
Temporal dev server, the worker and the API through these functions."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType

from settings import Settings
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

# Name -> type as the Temporal CLI spells it. Derived from the workflow's typed keys, so
# the dev server registers exactly the attributes the runs upsert.
SEARCH_ATTRIBUTES: dict[str, str] = {
    key.name: _CLI_TYPE_NAMES[key.indexed_value_type] for key in ALL_KEYS
}


def executable(name: str) -> str:
    """A console script of this environment (the venv's bin/), else one from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is neither beside {sys.executable} nor on PATH")
    return found


def temporal_dev_server_command(settings: Settings, codec_endpoint: str | None = None) -> list[str]:
    """`temporal server start-dev` keeping its state in DATA_DIR/temporal.db."""
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
    if codec_endpoint:
        command += ["--ui-codec-endpoint", codec_endpoint]
    for name, type_name in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={type_name}"]
    return command


def mail_catcher_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "devstack.mail_catcher",
        str(settings.mail_dir.resolve()),
        str(settings.smtp_port),
    ]


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
    child reads exactly ``settings``: DATA_DIR absolute, DATABASE_URL and TEMPORAL_ADDRESS
    resolved, SMTP_HOST 127.0.0.1 (the local catcher) when unset."""
    env = dict(os.environ if base is None else base)
    values = settings.model_dump()
    values["data_dir"] = settings.data_dir.resolve()
    values["database_url"] = settings.effective_database_url
    values["temporal_address"] = settings.effective_temporal_address
    values["smtp_host"] = settings.smtp_host or "127.0.0.1"
    for name, value in values.items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()  # the child needs the secret itself, not "****"
        if value is None:
            env.pop(name.upper(), None)
        elif isinstance(value, bool):
            env[name.upper()] = "true" if value else "false"
        else:
            env[name.upper()] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def free_port() -> int:
    """A TCP port nothing listens on right now (for tests that start the stack)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def temporal_ready(settings: Settings) -> bool:
    """A client connects to the (local, plain-text) frontend and the namespace exists."""

    async def probe() -> None:
        client = await Client.connect(
            settings.effective_temporal_address, namespace=settings.temporal_namespace
        )
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.temporal_namespace)
        )

    try:
        asyncio.run(asyncio.wait_for(probe(), 5))
    except Exception:  # not up yet, whatever the failure looks like
        return False
    return True


def api_healthy(port: int, host: str = "127.0.0.1") -> bool:
    """GET /api/health answers 200 (database and Temporal both reachable from the API)."""
    try:
        return httpx.get(f"http://{host}:{port}/api/health", timeout=3.0).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path | None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    """Child processes started in order and stopped in reverse order.

    Each child gets a process group of its own, so a Ctrl-C in the terminal reaches only
    the supervisor, which then stops the children one by one (API before worker before
    Temporal). Output goes to ``log_dir/<name>.log`` when a log directory is given.
    """

    env: Mapping[str, str]
    log_dir: Path | None = None
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, command: Sequence[str]) -> Child:
        log_path = None if self.log_dir is None else self.log_dir / f"{name}.log"
        if log_path is None:
            process = subprocess.Popen(list(command), cwd=ROOT, env=dict(self.env), process_group=0)
        else:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with log_path.open("ab") as log:
                log.write(f"--- {name} started {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
                log.flush()
                process = subprocess.Popen(
                    list(command),
                    cwd=ROOT,
                    env=dict(self.env),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def dead(self) -> list[tuple[str, int]]:
        """(name, exit code) of every child that has ended."""
        return [
            (child.name, code)
            for child in self.children
            if (code := child.process.poll()) is not None
        ]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM each child, newest first; SIGKILL one that is not gone after ``timeout``."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
        self.children.clear()


def wait_until(
    ready: Callable[[], bool], what: str, timeout: float, stack: Stack | None = None
) -> None:
    """Poll ``ready`` until true. Raises RuntimeError as soon as a child of ``stack`` has
    ended (naming it, with the end of its log), TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if stack is not None and (dead := stack.dead()):
            details = []
            for name, code in dead:
                child = next(c for c in stack.children if c.name == name)
                details.append(f"{name} exited with code {code}\n{child.log_tail()}")
            raise RuntimeError(f"while waiting for {what}: " + "\n".join(details))
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout:.0f}s")
        time.sleep(0.2)
