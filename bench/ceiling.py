"""Driving the bare workflow: start + as many updates as the JD lifecycle has routes, each
update awaited before the next, exactly as an HTTP client walks an order. ``writes`` picks
the ceiling: "local" (a no-op local activity per update, as the product writes) or
"activity" (a regular one, the earlier ceiling)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from temporalio.client import Client

from bench.ceiling_workflow import LOCAL, BareWorkflow
from bench.load import closed_loop
from bench.stack import CEILING_QUEUE
from bench.stats import Recorder

START = "start"
FIRST_UPDATE = "first_update"
# start + the first update's answer: the bare equivalent of POST /api/orders
PLACE = "place_equivalent"
# every later update's round trip: what each later transition compares to
UPDATE = "update_round_trip"


async def run_level(
    client: Client, *, updates: int, total: int, concurrency: int, writes: str = LOCAL
) -> dict[str, Any]:
    recorder = Recorder()
    tag = uuid.uuid4().hex[:8]

    async def lifecycle(index: int) -> None:
        started = time.perf_counter()
        with recorder.timed(START):
            handle = await client.start_workflow(
                BareWorkflow.run,
                writes,
                id=f"bare-{writes}-{tag}-{index}",
                task_queue=CEILING_QUEUE,
            )
        for step in range(updates):
            with recorder.timed(FIRST_UPDATE if step == 0 else UPDATE):
                await handle.execute_update(BareWorkflow.step, step)
            if step == 0:
                recorder.add(PLACE, time.perf_counter() - started)

    result = await closed_loop(lifecycle, total=total, concurrency=concurrency)
    return result.level(concurrency) | {"writes": writes, "latency": recorder.summaries()}
