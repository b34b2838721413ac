"""Latency samples and their percentiles."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, interpolated between ranks."""
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    """count and p50/p95/p99/mean/max in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p95_ms": round(percentile(ordered, 95) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


class Recorder:
    """Durations by name (a route, an update), in seconds."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.samples[name].append(time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.samples[name].append(seconds)

    def summaries(self) -> dict[str, dict[str, Any]]:
        return {name: summary(values) for name, values in self.samples.items()}


def ratio(value: float | None, ceiling: float | None, digits: int = 2) -> float | None:
    if value is None or ceiling is None or ceiling == 0 or math.isnan(value):
        return None
    return round(value / ceiling, digits)
