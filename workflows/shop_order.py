"""ShopOrderWorkflow: one run per shop order, workflow id = the main order number.

Every change is a Workflow Update named by its step (``domain.steps``); the validator asks
``domain.lifecycle`` before anything is written, the handler applies the step, awaits the
projection write and answers the new state (its record of events cut to what the caller
has not read: ``workflows.messages.StepAnswer``), so the caller reads its own write. Time (the
one-year deadline and the reminders) is durable timers in the run loop.

An open run moves itself onto the newest code at a quiet moment (continue-as-new, the
whole state carried) when ops ask (``upgrade``) or its history grows long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts
    from domain import idempotency, lifecycle, queues
    from domain.calendar import format_local
    from domain.commands import Command
    from domain.money import format_fen
    from domain.notices import Notice
    from domain.order import OrderState
    from domain.steps import deadline
    from domain.steps import notices as notice_records
    from workflows import search_attributes, trace_context
    from workflows.messages import (
        Carried,
        OrderOutcome,
        StartOrder,
        StepAnswer,
        UpgradeAnswer,
        step_answer,
    )

# Persistence must not give up: the database coming back is a matter of time.
PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[
        contracts.SERVICE_MARKET_ORDER_TAKEN,
        contracts.PLACEMENT_KEY_TAKEN,
        contracts.INVOICE_NUMBER_TAKEN,
    ],
)
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10)
)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A local activity retries inside its workflow task, which the worker keeps extending (a few
# history events each time); pauses longer than this become durable timers instead, so a
# long database outage does not grow every waiting run's history.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=5)

NEXT_MOMENT = "next reminder, the one-year deadline or a correction period's end"
NEXT_MOMENT_OR_LIMIT = NEXT_MOMENT + ", or a work queue's time limit"
# Runs started before the back office's time limits (domain.queues) take the old branch:
# their timers wake only for reminders and deadlines, and nothing is flagged 超时.
TIME_LIMITS_PATCH = "work-queue-time-limits"
# A whole lifecycle takes about 200 events; a run this long has seen something unusual
# (a long outage, many corrections) and starts afresh on the newest code.
HISTORY_EVENTS_BEFORE_MOVING = 2_000

# A refusal from domain.lifecycle reaches the API as an ApplicationError of this type.
REFUSED_PREFIX = "refused:"
# The name of the ``recorded`` update (its method's name), for the API to send it by name.
RECORDED_UPDATE = "recorded"


def _refusal_of(error: ActivityError | ApplicationError) -> ApplicationError | None:
    """The refusal a persistence activity raised (a duplicate order), or None for any other
    failure. A local activity's error may arrive as itself or wrapped in ActivityError."""
    cause = error.cause if isinstance(error, ActivityError) else error
    return cause if isinstance(cause, ApplicationError) else None


def _refused(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, type=REFUSED_PREFIX + code, non_retryable=True)


@workflow.defn
class ShopOrderWorkflow:
    @workflow.init
    def __init__(self, start: StartOrder) -> None:
        carried = start.carried or Carried()
        self._state = start.order
        self._lock = asyncio.Lock()
        self._recorded = start.carried is not None
        self._rejected: str | None = None
        self._outbox: list[Notice] = list(carried.outbox)
        self._saved_version = start.order.version
        # Rebuilt on replay, as every accepted update's handler runs again.
        self._keys: dict[str, str] = dict(carried.keys)
        # The trace of the update that queued each e-mail, by occasion (not carried over).
        self._mail_traces: dict[str, dict[str, str]] = {}
        self._upgrade_asked = False
        # The timer armed for the next reminder or deadline, and the moment it is for.
        self._timer: asyncio.Task[None] | None = None
        self._timer_at: datetime | None = None

    # --- the run ------------------------------------------------------------------

    @workflow.run
    async def run(self, start: StartOrder) -> OrderOutcome:
        if not self._recorded:
            async with self._lock:
                if not await self._record_new_order():
                    return OrderOutcome(order_no=self._state.order_no, rejected=self._rejected)
        else:
            # A carried state from before the time limits starts its clocks now.
            queues.track(self._state, workflow.now())
            self._publish()
        while True:
            await self._send_outbox()
            if deadline.is_finished(self._state, workflow.now()) and not self._outbox:
                break
            if self._should_move():
                await self._move_to_newest_code()
            await self._wait_for_change_or_next_moment()
            async with self._lock:
                await self._fire_due_timers()
        if self._timer is not None:
            self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OrderOutcome(order_no=self._state.order_no, final=self._state)

    async def _record_new_order(self) -> bool:
        state = self._state
        queues.track(state, state.placed_at)  # the review's clock starts with the order
        try:
            placement = await workflow.execute_local_activity(
                contracts.RECORD_PLACEMENT,
                contracts.NewOrder(state=state, invoice_count=lifecycle.invoice_slots(state.mode)),
                result_type=contracts.Placement,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=PERSIST_RETRY,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            )
        except (ActivityError, ApplicationError) as err:
            refusal = _refusal_of(err)
            if refusal is None:
                raise
            self._rejected = refusal.message
            return False
        state.serial_no = placement.numbers.serial_no
        state.reserved_invoice_nos = list(placement.numbers.invoice_app_nos)
        self._recorded = True
        self._saved_version = state.version
        self._publish()
        return True

    def _moved_since(self, version: int) -> bool:
        return self._state.version != version or bool(self._outbox) or self._upgrade_asked

    async def _wait_for_change_or_next_moment(self) -> None:
        """Wake on any change, new mail to send, or the next moment's timer. The timer stays
        armed across changes that leave the next moment where it was (most do), so a
        transition adds no timer to the history."""
        if self._timer is not None and self._timer.done():
            self._timer, self._timer_at = None, None
        moment = deadline.next_moment(self._state)
        keeps_limits = self._keeps_time_limits()
        if keeps_limits:
            limit = queues.next_due(self._state)
            if limit is not None and (moment is None or limit < moment):
                moment = limit
        if moment != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            if moment is not None:
                delay = max(moment - workflow.now(), timedelta(0))
                summary = NEXT_MOMENT_OR_LIMIT if keeps_limits else NEXT_MOMENT
                self._timer = asyncio.create_task(workflow.sleep(delay, summary=summary))
            self._timer_at = moment
        version = self._state.version
        await workflow.wait_condition(
            lambda: self._moved_since(version) or (self._timer is not None and self._timer.done())
        )

    @staticmethod
    def _keeps_time_limits() -> bool:
        """Whether this run wakes for the work queues' time limits (runs started before
        them replay without; ``python -m ops upgrade-runs`` moves them onto it)."""
        return workflow.patched(TIME_LIMITS_PATCH)

    async def _fire_due_timers(self) -> None:
        state = self._state
        notices = deadline.fire_due(state, workflow.now())
        if self._keeps_time_limits():
            notices += queues.flag_overdue(state, workflow.now())
        if notices or state.version != self._saved_version:
            await self._save()
            self._outbox += notices
            self._publish()

    async def _send_outbox(self) -> None:
        while self._outbox:
            notice = self._outbox[0]
            try:
                with trace_context.resumed(self._mail_traces.pop(notice.occasion, None)):
                    await workflow.execute_activity(
                        contracts.SEND_EMAIL,
                        contracts.EmailRequest(
                            key=f"{self._state.order_no}:{notice.occasion}",
                            order_no=self._state.order_no,
                            notice=notice,
                        ),
                        result_type=contracts.EmailResult,
                        start_to_close_timeout=ACTIVITY_TIMEOUT,
                        retry_policy=MAIL_RETRY,
                    )
            except ActivityError as err:
                reason = self._undeliverable_reason(err)
                if reason is None:
                    raise
                if notice.staff is not None:
                    # A staff alert (超时) is the back office's business: its failure (which may
                    # name a staff address) stays out of the buyer's 操作记录; ops see it here,
                    # in the run's failed activity and in the mail metrics.
                    workflow.logger.warning(
                        "staff notice %s undeliverable: %s", notice.occasion, reason
                    )
                    self._outbox.pop(0)
                    continue
                # Never sendable: written down for people to see, and the next one goes out.
                async with self._lock:
                    notice_records.record_failed_notice(self._state, workflow.now(), notice, reason)
                    await self._save()
                    self._publish()
            self._outbox.pop(0)

    @staticmethod
    def _undeliverable_reason(error: ActivityError) -> str | None:
        """Why the e-mail activity gave up for good (NoticeUndeliverable), or None."""
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == contracts.NOTICE_UNDELIVERABLE:
            return cause.message
        return None

    # --- moving onto the newest code -------------------------------------------------

    def _should_move(self) -> bool:
        info = workflow.info()
        return (
            self._upgrade_asked
            or info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_EVENTS_BEFORE_MOVING
        )

    async def _move_to_newest_code(self) -> None:
        """Continue as a new run of the newest code, at a quiet moment: no update half done.
        The timers are not carried but re-armed: the next moment follows from the state."""
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and not self._lock.locked()
        )
        if self._timer is not None:
            self._timer.cancel()
        carried = Carried(keys=self._keys, outbox=self._outbox)
        workflow.continue_as_new(StartOrder(order=self._state, carried=carried))

    @workflow.update
    async def upgrade(self) -> UpgradeAnswer:
        """Ops ask the run to move onto the newest code (``python -m ops upgrade-runs``)."""
        self._upgrade_asked = True
        length = workflow.info().get_current_history_length()
        return UpgradeAnswer(order_no=self._state.order_no, history_length=length)

    # --- persistence and visibility ------------------------------------------------

    async def _save(self) -> None:
        """Project the current state (a payout's ledger row with it) before anyone is
        answered."""
        await workflow.execute_local_activity(
            contracts.SAVE_CHANGE,
            self._state,
            result_type=contracts.SaveResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=PERSIST_RETRY,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
        )
        self._saved_version = self._state.version

    def _publish(self) -> None:
        """Keep ops' view current: search attributes and the run page's details."""
        state = self._state
        workflow.upsert_search_attributes(search_attributes.updates_for(state))
        invoices = "\n".join(
            f"- {i.invoice_app_no} {format_fen(i.amount_fen)} {i.status.label}"
            for i in state.invoices
        )
        current = state.refund
        refund = (
            f"{current.refund_id} {format_fen(current.amount_fen)} {current.status.label}"
            if current
            else "无"
        )
        deadline_text = "已过" if state.deadline_passed else format_local(state.service_end_at)
        work = "、".join(
            f"{item.queue.label} {item.item_id}" + ("（超时）" if item.overdue else "")
            for item in queues.items(state)
        )
        # The run's static summary is written once at the start; the details follow every
        # change, the shop's name (editable after a return) included.
        workflow.set_current_details(
            f"**店铺** {state.shop_name}（{state.product.name}）\n\n"
            f"**订单状态** {state.status.label}\n\n"
            f"**开票** \n{invoices or '无'}\n\n"
            f"**退款** {refund}\n\n"
            f"**待办队列** {work or '无'}\n\n"
            f"**一年期限 (服务终止)** {deadline_text}"
        )

    # --- the steps: one update each, named by the step ------------------------------

    @workflow.update(dynamic=True)
    async def step(self, name: str, args: Sequence[RawValue]) -> StepAnswer:
        command = self._command(name, args)
        async with self._lock:
            if self._rejected is not None:
                raise _refused(self._rejected, "not_found")
            if self._is_repeat_of_earlier_run():
                return step_answer(self._state, 0)
            # The state may have moved while this update waited for the lock.
            self._check(command)
            before = self._state.model_copy(deep=True)
            # The caller read the order before sending this: it has every entry recorded so far.
            # (An answer is no command: replaying a history that answered the whole order
            # compares nothing of it, so this needs no patch; tests/histories replay it.)
            events_before = len(before.events)
            notices = lifecycle.apply(self._state, command, workflow.now())
            # Remembered with the change, not after its save: updates validated meanwhile
            # see the new state and must see the key that made it.
            remembered = self._remember_key()
            try:
                await self._save()
            except (ActivityError, ApplicationError) as err:
                self._state = before
                if remembered is not None:
                    del self._keys[remembered]
                refusal = _refusal_of(err)  # a duplicate service-market number
                if refusal is None:
                    raise
                raise _refused(refusal.message, "invalid_transition") from None
            self._outbox += notices
            caller = trace_context.current()
            self._mail_traces |= {notice.occasion: caller for notice in notices if caller}
            self._publish()
            return step_answer(self._state, events_before)

    @step.validator
    def _validate_step(self, name: str, args: Sequence[RawValue]) -> None:
        command = self._command(name, args)
        if self._is_repeat_of_earlier_run():
            return
        self._check(command)

    @staticmethod
    def _command(name: str, args: Sequence[RawValue]) -> Command:
        """The step's command, decoded as the type its declaration names."""
        if name not in lifecycle.STEPS or len(args) != 1:
            raise _refused(f"没有名为 {name} 的操作", "not_found")
        step = lifecycle.step_for(name)
        try:
            command = workflow.payload_converter().from_payload(args[0].payload, step.command)
        except Exception as error:  # the sender's mistake: refused, the order unchanged
            raise _refused(f"{step.label}的内容无法读取: {error}", "invalid_input") from None
        return command

    def _check(self, command: Command) -> None:
        self._refuse_reused_key()
        try:
            lifecycle.check(self._state, command)
        except lifecycle.TransitionRefused as refused:
            raise _refused(refused.message, refused.code) from None

    @staticmethod
    def _key_of_current_update() -> tuple[str, str] | None:
        info = workflow.current_update_info()
        return idempotency.split_update_id(info.id) if info is not None else None

    def _is_repeat_of_earlier_run(self) -> bool:
        """The same request with the same Idempotency-Key, already applied by the run this
        one continues: Temporal answers repeats itself only within one run, so the carried
        keys answer it here, with the order as it is, applying nothing twice."""
        key = self._key_of_current_update()
        return key is not None and self._keys.get(key[0]) == key[1]

    def _refuse_reused_key(self) -> None:
        """The same Idempotency-Key with another request: refused, nothing changes."""
        key = self._key_of_current_update()
        if key is None:
            return
        scope, fingerprint = key
        if self._keys.get(scope, fingerprint) != fingerprint:
            raise _refused(idempotency.conflict_message(scope), idempotency.CONFLICT)

    def _remember_key(self) -> str | None:
        """Remember this update's key; answers its scope when it was new."""
        key = self._key_of_current_update()
        if key is None or key[0] in self._keys:
            return None
        self._keys[key[0]] = key[1]
        return key[0]

    @workflow.update  # named after the method: RECORDED_UPDATE
    async def recorded(self) -> OrderState:
        """Answers once the new order is readable in the database (or refuses it)."""
        await workflow.wait_condition(lambda: self._recorded or self._rejected is not None)
        if self._rejected is not None:
            raise _refused(self._rejected, "duplicate")
        return self._state

    @workflow.query
    def state(self) -> OrderState:
        return self._state


def update_name(command: Command) -> str:
    """The update a command travels by: its step's name."""
    return lifecycle.step_for(command.action).name
