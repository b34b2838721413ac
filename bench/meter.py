"""CPU time and peak memory of the stack's processes over one phase (psutil).

Peak RSS is the kernel's high-water mark (VmHWM), reset at the start of each phase through
/proc/<pid>/clear_refs so each phase gets its own peak; where that is not allowed the peak
of a 0.2 s sampler stands in.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

MB = 1024 * 1024
OTHER = "other processes"  # the rest of the machine, beside the stack's own processes


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _kernel_peak(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass
class _Watched:
    process: psutil.Process
    cpu_start: float = 0.0
    sampled_peak: int = 0
    kernel_peak_ok: bool = False


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores, all processes)."""
    times = psutil.cpu_times()
    return float(times.user + times.system + getattr(times, "nice", 0.0))


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


class Meter:
    """Watches named processes; ``start()`` … ``stop()`` gives each one's CPU and memory."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._watched = {name: _Watched(psutil.Process(pid)) for name, pid in pids.items()}
        self._running = False
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._machine_start = 0.0

    def start(self) -> None:
        self._machine_start = _machine_busy()
        for watched in self._watched.values():
            watched.cpu_start = _cpu(watched.process)
            watched.kernel_peak_ok = _reset_peak(watched.process.pid)
            watched.sampled_peak = watched.process.memory_info().rss
        self._started = time.perf_counter()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while self._running:
            for watched in self._watched.values():
                try:
                    rss = watched.process.memory_info().rss
                except psutil.Error:
                    continue
                watched.sampled_peak = max(watched.sampled_peak, rss)
            time.sleep(0.2)

    def stop(self) -> dict[str, dict[str, Any]]:
        """Per process: cpu_s, cores (CPU seconds per wall second), peak_rss_mb, rss_mb."""
        self._running = False
        if self._thread is not None:
            self._thread.join()
        wall = time.perf_counter() - self._started
        machine = _machine_busy() - self._machine_start
        usage: dict[str, dict[str, Any]] = {}
        for name, watched in self._watched.items():
            try:
                cpu = _cpu(watched.process) - watched.cpu_start
                rss = watched.process.memory_info().rss
            except psutil.Error:
                continue
            kernel = _kernel_peak(watched.process.pid) if watched.kernel_peak_ok else None
            peak = max(kernel or 0, watched.sampled_peak, rss)
            usage[name] = {
                "cpu_s": round(cpu, 3),
                "cores": round(cpu / wall, 3) if wall > 0 else None,
                "peak_rss_mb": round(peak / MB, 1),
                "rss_mb": round(rss / MB, 1),
            }
        ours = sum(u["cpu_s"] for u in usage.values())
        # Whatever else ran on the machine meanwhile (another test run, say) took this much:
        # shown in the report, because it competes for the same cores.
        usage[OTHER] = {
            "cpu_s": round(max(machine - ours, 0.0), 3),
            "cores": round(max(machine - ours, 0.0) / wall, 3) if wall > 0 else None,
        }
        return usage


def rss_mb(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / MB, 1)
