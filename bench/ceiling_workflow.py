"""The engine's ceiling: a workflow with no business logic that takes as many updates as a
shop order's lifecycle does, each writing through one no-op activity.

It mirrors the shape of ShopOrderWorkflow without its work: validated updates serialised by
a lock, each awaiting one activity, and a run that stays open on a long timer afterwards.

Two ways to write, chosen when the run starts:

- ``local`` (the honest ceiling): each update awaits a no-op *local* activity, the write
  mechanism ShopOrderWorkflow uses for its projection (``_save``), so the product is
  measured against the cheapest form of its own design;
- ``activity`` (the earlier ceiling, kept as a second reference line): a regular activity
  per update, one more task round trip through the server each time.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

NOOP = "bench_noop"
OPEN_FOR = timedelta(days=365)
TIMEOUT = timedelta(seconds=30)
LOCAL = "local"
ACTIVITY = "activity"
WRITES = (LOCAL, ACTIVITY)


@activity.defn(name=NOOP)
async def noop(step: int) -> int:
    return step


@workflow.defn
class BareWorkflow:
    @workflow.init
    def __init__(self, writes: str = ACTIVITY) -> None:
        self._lock = asyncio.Lock()
        self._steps = 0
        self._local = writes == LOCAL

    @workflow.run
    async def run(self, writes: str = ACTIVITY) -> int:
        # Open on a timer afterwards, as an order is until its service end.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: False, timeout=OPEN_FOR)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._steps

    @workflow.update
    async def step(self, step: int) -> int:
        async with self._lock:
            if self._local:
                await workflow.execute_local_activity(
                    NOOP, step, result_type=int, start_to_close_timeout=TIMEOUT
                )
            else:
                await workflow.execute_activity(
                    NOOP, step, result_type=int, start_to_close_timeout=TIMEOUT
                )
            self._steps += 1
            return self._steps

    @step.validator
    def _validate_step(self, step: int) -> None:
        if step < 0:
            raise ApplicationError("negative step", non_retryable=True)
