"""The engine's ceiling: a workflow with no business logic that takes as many updates as a
shop order's lifecycle does, each running one no-op activity.

It mirrors the shape of ShopOrderWorkflow without its work: validated updates serialised by
a lock, each awaiting one activity, and a run that stays open on a long timer afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

NOOP = "bench_noop"
OPEN_FOR = timedelta(days=365)


@activity.defn(name=NOOP)
async def noop(step: int) -> int:
    return step


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._steps = 0

    @workflow.run
    async def run(self) -> int:
        # Open on a timer afterwards, as an order is until its service end.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: False, timeout=OPEN_FOR)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._steps

    @workflow.update
    async def step(self, step: int) -> int:
        async with self._lock:
            await workflow.execute_activity(
                NOOP, step, result_type=int, start_to_close_timeout=timedelta(seconds=30)
            )
            self._steps += 1
            return self._steps

    @step.validator
    def _validate_step(self, step: int) -> None:
        if step < 0:
            raise ApplicationError("negative step", non_retryable=True)
