"""The Temporal Schedule of the daily digest: made (or brought up to date) by every worker as
it starts, so there is always exactly one, visible in the Temporal UI under Schedules."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.digest import DailyDigestWorkflow

DIGEST_SCHEDULE_ID = "daily-digest"
# 09:00 every day, Beijing time (China keeps no daylight saving time).
DIGEST_CRON = "0 9 * * *"
DIGEST_TIME_ZONE = "Asia/Shanghai"
DIGEST_NOTE = (
    "每天 09:00（北京时间）：财务日报（待打款 CSV、昨日已打款合计）与审核日报（各待办队列）"
)


def digest_schedule(task_queue: str, schedule_id: str = DIGEST_SCHEDULE_ID) -> Schedule:
    return Schedule(
        # Each run's workflow id is this id plus the scheduled time, one run a day.
        action=ScheduleActionStartWorkflow(
            DailyDigestWorkflow.run, id=schedule_id, task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[DIGEST_CRON], time_zone_name=DIGEST_TIME_ZONE),
        # A morning missed while the cluster was down is sent when it is back, within the
        # day; a run still going when the next is due is not doubled.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=12)
        ),
        state=ScheduleState(note=DIGEST_NOTE),
    )


async def ensure_digest_schedule(
    client: Client, task_queue: str, schedule_id: str = DIGEST_SCHEDULE_ID
) -> bool:
    """Create the digest's schedule, or make an existing one say what this code says (its
    pause state left as ops set it). True when it was created."""
    wanted = digest_schedule(task_queue, schedule_id)

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        wanted.state.paused = current.description.schedule.state.paused
        return ScheduleUpdate(schedule=wanted)

    try:
        await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).update(update)
        return False
    return True
