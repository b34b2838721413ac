"""A closed-loop load generator: ``concurrency`` virtual users, each running one scenario
after another until ``total`` have been started."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.stats import summary


@dataclass
class LoadResult:
    completed: int
    failed: int
    wall_s: float
    durations: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.completed / self.wall_s if self.wall_s > 0 else 0.0

    def level(self, concurrency: int) -> dict[str, Any]:
        """The figures every level reports, whatever its scenario."""
        return {
            "concurrency": concurrency,
            "lifecycles": self.completed,
            "failed": self.failed,
            "errors": self.errors,
            "wall_s": round(self.wall_s, 2),
            "lifecycles_per_s": round(self.per_second, 3),
            "lifecycle": summary(self.durations),
        }


async def closed_loop(
    scenario: Callable[[int], Awaitable[None]], *, total: int, concurrency: int
) -> LoadResult:
    """Run ``scenario(i)`` for i in 0..total-1 with at most ``concurrency`` at a time.

    Closed loop on purpose: a user starts its next lifecycle when the last one ends, so the
    offered load adapts to the system and the rate measured is what it sustains.
    """
    next_index = 0
    result = LoadResult(completed=0, failed=0, wall_s=0.0)

    async def user() -> None:
        nonlocal next_index
        while next_index < total:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            try:
                await scenario(index)
            except Exception as error:  # one failed lifecycle is reported, not fatal
                result.failed += 1
                if len(result.errors) < 10:
                    last = traceback.format_exception_only(error)[-1].strip()
                    result.errors.append(f"#{index}: {last[:400]}")
                continue
            result.completed += 1
            result.durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(min(concurrency, total))))
    result.wall_s = time.perf_counter() - started
    return result
