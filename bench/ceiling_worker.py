"""`python -m bench.ceiling_worker QUEUE`: serves the bare workflow and its no-op activity,
a process of its own (like worker.py) so its CPU and memory are measured the same way.

Same client recipe as the real worker (pydantic converter + payload encryption) and the
same workflow runner (worker.WORKFLOW_RUNNER, without the sandbox), so the ceiling differs
from the stack only by what the business adds.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.worker import Worker

import worker
from bench.ceiling_workflow import BareWorkflow, noop
from settings import get_settings
from workflows.client import connect


async def main(task_queue: str) -> None:
    client = await connect(get_settings())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[noop],
        workflow_runner=worker.WORKFLOW_RUNNER,
    ):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
