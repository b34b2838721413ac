"""`python worker.py`: runs ShopOrderWorkflow, DailyDigestWorkflow and their activities until
stopped; makes sure the daily digest's schedule exists as it starts."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

import uvloop
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.digest import DigestActivities
from activities.mail import MailActivities
from activities.persistence import PersistenceActivities
from db.engine import make_engine, make_sessionmaker
from ops.logs import configure_logging
from ops.tracing import WORKER_SERVICE, start_tracing
from settings import Settings, get_settings
from workflows.client import connect
from workflows.digest import DailyDigestWorkflow
from workflows.schedules import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from workflows.shop_order import ShopOrderWorkflow

log = logging.getLogger("worker")


# The production worker runs workflow code without the sandbox: its restriction checks on
# every activation cost a third of the worker's throughput (make bench measures it in each
# run as the "sandboxed" variant). The checks are not lost: the lifecycle tests run every
# path under the sandbox (SANDBOXED, below) and CI replays the recorded histories under it.
WORKFLOW_RUNNER: WorkflowRunner = UnsandboxedWorkflowRunner()
# The sandbox refuses non-deterministic calls (clock, randomness, I/O) in workflow code; it
# passes every module through instead of re-importing them for each run, as ours keep no
# module-level state a run could change.
SANDBOXED: WorkflowRunner = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
)


# uvloop's event loop: the worker spends a third of its time in the event loop, most of it
# writing to sockets (the database, SMTP), which uvloop does for less CPU (make bench measures
# asyncio's own loop in each run as the "asyncio" variant).
LOOP_FACTORY: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop


def build_worker(
    client: Client,
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    task_queue: str | None = None,
    workflow_runner: WorkflowRunner | None = None,
) -> Worker:
    persistence = PersistenceActivities(session_maker)
    mail = MailActivities(session_maker, settings)
    digest = DigestActivities(session_maker, mail)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=[ShopOrderWorkflow, DailyDigestWorkflow],
        workflow_runner=workflow_runner or WORKFLOW_RUNNER,
        activities=[
            persistence.record_placement,
            persistence.save_change,
            mail.send_email,
            digest.send_finance_digest,
            digest.send_reviewer_digest,
        ],
    )


def runtime_for(settings: Settings) -> Runtime | None:
    """Temporal's own worker metrics (task latencies, slots, polls) for Prometheus."""
    if not settings.worker_metrics_port:
        return None
    metrics = PrometheusConfig(bind_address=f"{settings.api_host}:{settings.worker_metrics_port}")
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format)
    # Before connecting: the client (and so this worker) traces only when this set it up.
    start_tracing(settings, WORKER_SERVICE)
    engine = make_engine(settings.effective_database_url, pre_ping=False)
    client = await connect(settings, runtime_for(settings))
    worker = build_worker(client, settings, make_sessionmaker(engine))
    try:
        created = await ensure_digest_schedule(client, settings.temporal_task_queue)
        log.info("schedule %s %s", DIGEST_SCHEDULE_ID, "created" if created else "up to date")
    except RPCError:
        # Orders must not wait on the digest: the worker runs, the next start tries again.
        log.exception("could not create or update the schedule %s", DIGEST_SCHEDULE_ID)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker polling task queue %s on %s",
        settings.temporal_task_queue,
        settings.effective_temporal_address,
    )
    async with worker:
        await stop.wait()
    await engine.dispose()


def run() -> None:
    with asyncio.Runner(loop_factory=LOOP_FACTORY) as runner:
        runner.run(main())


if __name__ == "__main__":
    run()
