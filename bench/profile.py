"""Sampling profiles of the worker and the API while lifecycles run (py-spy attached to the
running processes, so they run exactly as started), summed into what costs the most."""

from __future__ import annotations

import importlib
import inspect
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.processes import ROOT

RATE_HZ = 97  # not a divisor of common timer periods, so sampling does not alias with them

# (start of a frame's path as py-spy prints it, category), first match wins. py-spy cuts
# paths to the module's own: "sqlalchemy/orm/session.py", "activities/persistence.py".
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("temporalio/worker/workflow_sandbox", "Temporal workflow sandbox"),
    ("temporalio/contrib/pydantic", "Temporal payload conversion"),
    ("temporalio/converter", "Temporal payload conversion"),
    ("temporalio/", "Temporal SDK (other)"),
    ("workflows/codec.py", "payload encryption"),
    ("cryptography/", "payload encryption"),
    ("pydantic", "pydantic"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("aiosqlite/", "SQLite driver"),
    ("sqlite3/", "SQLite driver"),
    ("asyncpg/", "asyncpg"),
    ("uvicorn/", "HTTP server stack"),
    ("starlette/", "HTTP server stack"),
    ("fastapi/", "HTTP server stack"),
    ("h11/", "HTTP server stack"),
    ("httptools/", "HTTP server stack"),
    ("multipart/", "HTTP server stack"),
    ("python_multipart/", "HTTP server stack"),
    ("jinja2/", "e-mail"),
    ("aiosmtplib/", "e-mail"),
    ("email/", "e-mail"),
    ("prometheus_client/", "metrics"),
    ("logging/", "logging"),
    ("ops/logs.py", "logging"),
    ("jwt/", "JWT"),
    ("json/", "json"),
    ("asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("threading.py", "threads"),
    ("concurrent/futures", "threads"),
    ("domain/", "project: domain"),
    ("activities/", "project: activities"),
    ("api/", "project: api"),
    ("workflows/", "project: workflows"),
    ("db/", "project: db"),
    ("worker.py", "project: worker.py"),
)
PROJECT = ("domain/", "activities/", "api/", "workflows/", "db/", "worker.py", "settings.py")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    name: str
    process: subprocess.Popen[bytes]
    output: Path


class Profiler:
    """py-spy record on each pid until stopped; ``stop()`` answers the summaries."""

    def __init__(self, pids: dict[str, int], directory: Path) -> None:
        self._pids = pids
        self._directory = directory
        self._recordings: list[Recording] = []

    def start(self) -> bool:
        binary = py_spy()
        if binary is None:
            return False
        self._directory.mkdir(parents=True, exist_ok=True)
        for name, pid in self._pids.items():
            output = self._directory / f"{name}.collapsed.txt"
            # --nonblocking: the process is never paused, so the profile barely slows what
            # it measures. Line numbers stay in: they tell a thread waiting for work from one
            # doing it (see WAITING).
            command = [
                binary,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(RATE_HZ),
                "--nonblocking",
                "--format",
                "raw",
                "-o",
                str(output),
            ]
            log = (self._directory / f"{name}.py-spy.log").open("wb")
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            self._recordings.append(Recording(name, process, output))
        return True

    def stop(self) -> dict[str, Any]:
        summaries: dict[str, Any] = {}
        for recording in self._recordings:
            # py-spy writes its file when interrupted, as on Ctrl-C.
            recording.process.send_signal(signal.SIGINT)
            try:
                recording.process.wait(60)
            except subprocess.TimeoutExpired:
                recording.process.kill()
                recording.process.wait()
            if recording.output.exists():
                summaries[recording.name] = summarise(recording.output.read_text())
        self._recordings.clear()
        return summaries


def _split(frame: str) -> tuple[str, str, int | None]:
    """``function (path:line)`` -> (function, path, line)"""
    start = frame.rfind(" (")
    if start < 0 or not frame.endswith(")"):
        return frame, "", None
    name, where = frame[:start], frame[start + 2 : -1]
    path, _, line = where.rpartition(":")
    if path and line.isdigit():
        return name, path, int(line)
    return name, where, None


def _waiting_lines() -> dict[str, set[int]]:
    """Lines where a thread blocks in C waiting for work: py-spy cannot tell those samples
    from work done in C, the line can (aiosqlite's thread runs each query at another line)."""
    found: dict[str, set[int]] = {}
    for module, function, needle in (
        ("aiosqlite.core", "_connection_worker_thread", "tx.get()"),
        ("concurrent.futures.thread", "_worker", "work_queue.get("),
    ):
        try:
            code = getattr(importlib.import_module(module), function)
            lines, first = inspect.getsourcelines(code)
        except (ImportError, AttributeError, OSError, TypeError):
            continue
        found[function] = {first + i for i, text in enumerate(lines) if needle in text}
    return found


WAITING = _waiting_lines()
# Leaf functions that only ever wait (a lock, a condition, the event loop's epoll).
IDLE_LEAVES = frozenset(
    {
        "Condition.wait",
        "Event.wait",
        "EpollSelector.select",
        "Thread._wait_for_tstate_lock",
        "SimpleQueue.get",
        "Queue.get",
    }
)
SQLITE_CALL = "SQLite engine (C call from aiosqlite's thread)"


def idle(leaf: str) -> bool:
    name, _, line = _split(leaf)
    if name in IDLE_LEAVES:
        return True
    return line is not None and line in WAITING.get(name, set())


def short(frame: str) -> str:
    """A frame with its path cut to the package: ``save_order (activities/persistence.py)``."""
    name, path, _ = _split(frame)
    for marker in ("site-packages/", "lib/python3.11/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def category(frame: str) -> str:
    name, path, _ = _split(frame)
    if name == "_connection_worker_thread":
        return SQLITE_CALL
    for prefix, label in CATEGORIES:
        if path.startswith(prefix):
            return label
    return "other"


def _project(frame: str) -> bool:
    name, path, _ = _split(frame)
    return path.startswith(PROJECT) and name != "<module>"


def summarise(collapsed: str, top: int = 15) -> dict[str, Any]:
    """Self time by category, the hottest functions (self and inclusive) and the project's
    own functions by inclusive time, each as a share of the busy samples (a thread doing
    something, in Python or in C, rather than waiting)."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = waiting = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        leaf = frames[-1]
        if idle(leaf):
            waiting += count
            continue
        total += count
        self_time[short(leaf)] += count
        categories[category(leaf)] += count
        for frame in set(frames):
            inclusive[short(frame)] += count
            if _project(frame):
                own[short(frame)] += count

    def shares(counter: Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {"frame": name, "samples": count, "share": round(count / total, 4) if total else 0}
            for name, count in counter.most_common(n)
        ]

    return {
        "samples": total,
        "waiting_samples": waiting,
        "rate_hz": RATE_HZ,
        "categories": shares(categories, 20),
        "self": shares(self_time, top),
        "inclusive": shares(Counter({k: v for k, v in inclusive.items() if not _noise(k)}), top),
        "project_inclusive": shares(own, top),
    }


def _noise(frame: str) -> bool:
    """Frames every sample passes through (thread and loop plumbing) say nothing."""
    return any(
        marker in frame
        for marker in ("threading.py", "asyncio/", "selectors.py", "<module>", "concurrent/")
    )
