"""Whether any worker is taking the order workflows' tasks: Temporal's own record of the
task queue's pollers, asked at most every few seconds however often health is called."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

# An idle worker's poll is held by Temporal for up to a minute before it polls again (an
# idle worker's newest poll was measured up to 50 s old), and a gone worker stays listed
# for minutes with its last poll time: a poller silent longer than this is gone.
POLLER_SILENCE = timedelta(seconds=75)
# Health may be called every second by a load balancer; Temporal is asked at most this often.
CACHE_FOR = timedelta(seconds=5)


async def live_pollers(
    client: Client, task_queue: str, *, rpc_timeout: timedelta, silence: timedelta = POLLER_SILENCE
) -> int:
    """Workers that polled the queue's workflow tasks within ``silence``."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=rpc_timeout,
    )
    oldest = time.time() - silence.total_seconds()
    return sum(1 for p in answer.pollers if p.last_access_time.ToSeconds() >= oldest)


class WorkerPresence:
    """The last count of live pollers, kept for ``CACHE_FOR``; concurrent health calls
    share one question to Temporal."""

    def __init__(self, cache_for: timedelta = CACHE_FOR) -> None:
        self._cache_for = cache_for.total_seconds()
        self._counted: tuple[float, int] | None = None
        self._lock = asyncio.Lock()

    async def pollers(self, client: Client, task_queue: str, *, rpc_timeout: timedelta) -> int:
        async with self._lock:
            now = time.monotonic()
            if self._counted is None or now - self._counted[0] >= self._cache_for:
                count = await live_pollers(client, task_queue, rpc_timeout=rpc_timeout)
                self._counted = (now, count)
            return self._counted[1]
