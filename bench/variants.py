"""Worker variants: the real worker with one change each, to measure a fix before anyone
makes it (the bench may not change the code it measures). `python -m bench.variants NAME`
runs worker.py's main with the change applied; names combine with '+'.

- ``sandboxed``: workflows run in the sandbox (worker.SANDBOXED, as the lifecycle tests
  run them) instead of without it: what its checks on every activation cost.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import worker


def _sandboxed() -> None:
    worker.WORKFLOW_RUNNER = worker.SANDBOXED


VARIANTS: dict[str, Callable[[], None]] = {
    "sandboxed": _sandboxed,
}


def command(name: str) -> list[str]:
    for part in name.split("+"):
        if part not in VARIANTS:
            raise SystemExit(f"unknown worker variant {part!r}; known: {', '.join(VARIANTS)}")
    return [sys.executable, "-m", "bench.variants", name]


if __name__ == "__main__":
    for part in sys.argv[1].split("+"):
        VARIANTS[part]()
    asyncio.run(worker.main())
