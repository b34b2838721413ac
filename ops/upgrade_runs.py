"""Move every open order run onto the newest workflow code (README, "Changing the workflow").

Each open ShopOrderWorkflow run is sent the ``upgrade`` update; the run then continues as
new at its next quiet moment. With ``wait``, each run is watched until it has continued (or
finished on its own), so "all moved" means no open run still replays the older code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError

from workflows.shop_order import ShopOrderWorkflow

OPEN_RUNS = 'WorkflowType="ShopOrderWorkflow" AND ExecutionStatus="Running"'
# A run answers the ask in one workflow task; no answer this long means no worker polls.
ASK_TIMEOUT = timedelta(seconds=30)
WAIT_TIMEOUT = timedelta(minutes=5)
POLL_INTERVAL = timedelta(milliseconds=200)


@dataclass
class UpgradeReport:
    found: int = 0
    asked: int = 0
    moved: int = 0
    # Runs that ended on their own between the listing and the ask (or the move).
    finished: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def open_runs_query(extra: str | None = None) -> str:
    """Every open order run, narrowed by ``extra`` (a visibility filter) when given."""
    return f"{OPEN_RUNS} AND ({extra})" if extra else OPEN_RUNS


async def upgrade_runs(
    client: Client,
    *,
    query: str | None = None,
    wait: bool = False,
    ask_timeout: timedelta = ASK_TIMEOUT,
    wait_timeout: timedelta = WAIT_TIMEOUT,
    say: Callable[[str], None] = print,
) -> UpgradeReport:
    report = UpgradeReport()
    runs = [run async for run in client.list_workflows(open_runs_query(query))]
    report.found = len(runs)
    say(f"{report.found} open order runs")
    asked: list[WorkflowExecution] = []
    for position, run in enumerate(runs, start=1):
        prefix = f"{position}/{report.found} {run.id}"
        # Addressed to this run, not the order: a run that has already moved must not
        # pass the ask on to its successor.
        handle = client.get_workflow_handle(run.id, run_id=run.run_id)
        try:
            answer = await asyncio.wait_for(
                handle.execute_update(ShopOrderWorkflow.upgrade),
                ask_timeout.total_seconds(),
            )
        except TimeoutError:
            report.failed.append(run.id)
            say(f"{prefix} no answer within {ask_timeout} (is a worker running?)")
            continue
        except (RPCError, WorkflowUpdateFailedError) as error:
            if await _has_ended(handle):
                report.finished += 1
                say(f"{prefix} ended meanwhile")
            else:
                report.failed.append(run.id)
                say(f"{prefix} failed: {error}")
            continue
        report.asked += 1
        asked.append(run)
        say(f"{prefix} asked (history {answer.history_length} events)")
    if wait:
        await _wait_until_moved(client, asked, report, wait_timeout, say)
        say(
            f"moved {report.moved} of {report.found}; {report.finished} ended on their own; "
            f"{len(report.failed)} failed"
        )
    else:
        say(f"asked {report.asked} of {report.found}; {len(report.failed)} failed")
    return report


async def _has_ended(handle: WorkflowHandle[ShopOrderWorkflow, object]) -> bool:
    try:
        description = await handle.describe()
    except RPCError:
        return False
    return description.status is not WorkflowExecutionStatus.RUNNING


async def _wait_until_moved(
    client: Client,
    runs: list[WorkflowExecution],
    report: UpgradeReport,
    give_up_after: timedelta,
    say: Callable[[str], None],
) -> None:
    """Watch each asked run until it has continued as new (moved) or completed."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + give_up_after.total_seconds()
    for position, run in enumerate(runs, start=1):
        prefix = f"{position}/{len(runs)} {run.id}"
        old_run = client.get_workflow_handle(run.id, run_id=run.run_id)
        while True:
            status = (await old_run.describe()).status
            if status is WorkflowExecutionStatus.CONTINUED_AS_NEW:
                newest = await client.get_workflow_handle(run.id).describe()
                report.moved += 1
                say(f"{prefix} moved to run {newest.run_id}")
                break
            if status is WorkflowExecutionStatus.COMPLETED:
                report.finished += 1
                say(f"{prefix} completed instead of moving")
                break
            if status is not WorkflowExecutionStatus.RUNNING:
                report.failed.append(run.id)
                say(f"{prefix} ended {status.name if status else 'unknown'} instead of moving")
                break
            if loop.time() > give_up_at:
                report.failed.append(run.id)
                say(f"{prefix} still on its old run after {give_up_after}")
                break
            await asyncio.sleep(POLL_INTERVAL.total_seconds())
