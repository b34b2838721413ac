"""DailyDigestWorkflow: started every morning at 09:00 Beijing by the Temporal Schedule
``daily-digest`` (worker.py creates it), it e-mails finance the payouts due and yesterday's
paid total, and the reviewers each work queue's count. Each e-mail is sent once per Beijing
day, however often the schedule or an activity runs."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts
    from domain.digest import beijing_day

DIGEST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    # Past lunch a morning digest is news nobody needs; tomorrow's comes anyway.
    maximum_attempts=40,
    non_retryable_error_types=[contracts.NOTICE_UNDELIVERABLE],
)
DIGEST_TIMEOUT = timedelta(minutes=1)


class DigestOutcome(BaseModel):
    day: date
    # What each digest came to: sent, already sent that day, not sent (nobody listed in
    # STAFF_EMAILS), or why it could never be sent.
    finance: str
    reviewers: str


@workflow.defn
class DailyDigestWorkflow:
    @workflow.run
    async def run(self) -> DigestOutcome:
        day = beijing_day(workflow.now())
        finance = await self._send(contracts.SEND_FINANCE_DIGEST, day)
        reviewers = await self._send(contracts.SEND_REVIEWER_DIGEST, day)
        return DigestOutcome(day=day, finance=finance, reviewers=reviewers)

    @staticmethod
    async def _send(activity_name: str, day: date) -> str:
        """One digest; a digest that can never be sent does not hold back the other."""
        try:
            result = await workflow.execute_activity(
                activity_name,
                contracts.DigestDay(day=day),
                result_type=contracts.EmailResult,
                start_to_close_timeout=DIGEST_TIMEOUT,
                retry_policy=DIGEST_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == contracts.NOTICE_UNDELIVERABLE:
                return f"undeliverable: {cause.message}"
            # Out of retries (SMTP or the database down for hours): the other digest still
            # goes; the failure is the run's result, for ops in the Temporal UI.
            return f"failed: {cause or err}"
        if result.already_sent:
            return "already sent"
        return "sent" if result.sent else "not sent"
