"""Worker variants: the real worker with one change each, to measure a fix before anyone
makes it (the bench may not change the code it measures). `python -m bench.variants NAME`
runs worker.py's main with the change applied; names combine with '+'.

- ``unsandboxed``: workflows run without the sandbox at all: what the sandbox still costs
  now that worker.py passes every module through (its restrictions on non-deterministic
  calls, checked on every activation).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from temporalio.worker import UnsandboxedWorkflowRunner

import worker


def _unsandboxed() -> None:
    worker.WORKFLOW_RUNNER = UnsandboxedWorkflowRunner()


VARIANTS: dict[str, Callable[[], None]] = {
    "unsandboxed": _unsandboxed,
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
