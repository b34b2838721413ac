"""ShopOrderWorkflow: one run per shop order, workflow id = the main order number.

Every change is a Workflow Update whose validator asks ``domain.lifecycle`` before
anything is written; the handler applies the change, awaits the projection write and
returns the new state, so the caller reads its own write. Time (the one-year deadline
and the reminders) is durable timers in the run loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts
    from domain import idempotency, lifecycle
    from domain.calendar import format_local
    from domain.commands import (
        AgreeRefund,
        ApplyRefund,
        Approve,
        Command,
        ConfirmReceipt,
        DecideRefund,
        EditInvoice,
        EditOrder,
        EditRefund,
        IssueInvoice,
        Payout,
        RecordSettlement,
        ReturnInvoice,
        ReturnOrder,
        ReturnRefund,
        ShipInvoice,
        VoidOrder,
    )
    from domain.money import format_fen
    from domain.notices import Notice
    from domain.order import OrderState
    from workflows import search_attributes

# Persistence must not give up: the database coming back is a matter of time.
PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[
        contracts.SERVICE_MARKET_ORDER_TAKEN,
        contracts.PLACEMENT_KEY_TAKEN,
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

# Runs started since this patch write the projection with one local activity per change
# (numbers and new order together; a payout's ledger row with its order). Older runs keep
# the regular activities they were started with, so their histories replay unchanged.
LOCAL_PROJECTION_WRITES = "projection-writes-as-local-activities"

T = TypeVar("T")

# Runs started since this patch keep one timer armed for the next reminder or deadline;
# older runs start a new timer (and cancel the last) on every change.
ONE_TIMER_PER_MOMENT = "one-timer-per-moment"
NEXT_MOMENT = "next reminder or the one-year deadline"

# A refusal from domain.lifecycle reaches the API as an ApplicationError of this type.
REFUSED_PREFIX = "refused:"


async def _regular_write(activity: str, arg: Any, result_type: type[T]) -> T:
    """A projection write as runs started before LOCAL_PROJECTION_WRITES make it."""
    return await workflow.execute_activity(
        activity,
        arg,
        result_type=result_type,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=PERSIST_RETRY,
    )


def _refusal_of(error: ActivityError | ApplicationError) -> ApplicationError | None:
    """The refusal a persistence activity raised (a duplicate order), or None for any other
    failure. A regular activity's error arrives wrapped in ActivityError, a local
    activity's as itself."""
    cause = error.cause if isinstance(error, ActivityError) else error
    return cause if isinstance(cause, ApplicationError) else None


class StartOrder(BaseModel):
    order: OrderState


class OrderOutcome(BaseModel):
    order_no: str
    rejected: str | None = None
    final: OrderState | None = None


@workflow.defn
class ShopOrderWorkflow:
    @workflow.init
    def __init__(self, start: StartOrder) -> None:
        self._state = start.order
        self._lock = asyncio.Lock()
        self._recorded = False
        self._rejected: str | None = None
        self._outbox: list[Notice] = []
        self._saved_version = start.order.version
        # Idempotency-Key scope -> fingerprint of the request that changed the order with it.
        # Rebuilt on replay, as every accepted update's handler runs again.
        self._keys: dict[str, str] = {}
        # The timer armed for the next reminder or deadline, and the moment it is for.
        self._timer: asyncio.Task[None] | None = None
        self._timer_at: datetime | None = None

    # --- the run ------------------------------------------------------------------

    @workflow.run
    async def run(self, start: StartOrder) -> OrderOutcome:
        async with self._lock:
            if not await self._record_new_order():
                return OrderOutcome(order_no=self._state.order_no, rejected=self._rejected)
        while True:
            await self._send_outbox()
            if lifecycle.is_finished(self._state, workflow.now()) and not self._outbox:
                break
            if workflow.patched(ONE_TIMER_PER_MOMENT):
                await self._wait_for_change_or_next_moment()
            else:
                # Wake on any change, new mail, or the next timer (a timeout is not an error).
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        functools.partial(self._moved_since, self._state.version),
                        timeout=self._time_to_next_timer(),
                        timeout_summary=NEXT_MOMENT,
                    )
            async with self._lock:
                await self._fire_due_timers()
        if self._timer is not None:
            self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OrderOutcome(order_no=self._state.order_no, final=self._state)

    async def _record_new_order(self) -> bool:
        try:
            if workflow.patched(LOCAL_PROJECTION_WRITES):
                await self._record_placement()
            else:
                await self._allocate_then_record()
        except (ActivityError, ApplicationError) as err:
            refusal = _refusal_of(err)
            if refusal is None:
                raise
            self._rejected = refusal.message
            return False
        self._recorded = True
        self._saved_version = self._state.version
        self._publish()
        return True

    async def _record_placement(self) -> None:
        state = self._state
        placement = await workflow.execute_local_activity(
            contracts.RECORD_PLACEMENT,
            contracts.NewOrder(state=state, invoice_count=lifecycle.invoice_slots(state.mode)),
            result_type=contracts.Placement,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=PERSIST_RETRY,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
        )
        state.serial_no = placement.numbers.serial_no
        state.reserved_invoice_nos = list(placement.numbers.invoice_app_nos)

    async def _allocate_then_record(self) -> None:
        """Runs started before LOCAL_PROJECTION_WRITES: two regular activities."""
        state = self._state
        numbers = await _regular_write(
            contracts.ALLOCATE_NUMBERS,
            contracts.AllocateNumbers(
                key=f"{state.order_no}:new-order",
                placed_at=state.placed_at,
                invoice_count=lifecycle.invoice_slots(state.mode),
            ),
            contracts.AllocatedNumbers,
        )
        state.serial_no = numbers.serial_no
        state.reserved_invoice_nos = list(numbers.invoice_app_nos)
        await _regular_write(
            contracts.RECORD_NEW_ORDER,
            state,
            contracts.SaveResult,
        )

    def _moved_since(self, version: int) -> bool:
        return self._state.version != version or bool(self._outbox)

    def _next_moment(self) -> datetime | None:
        """When the next reminder or the one-year deadline falls due, if any still does."""
        moments = [at for _, at in lifecycle.due_reminders(self._state)]
        if not self._state.deadline_passed:
            moments.append(self._state.service_end_at)
        return min(moments, default=None)

    def _time_to_next_timer(self) -> timedelta | None:
        moment = self._next_moment()
        return None if moment is None else max(moment - workflow.now(), timedelta(0))

    async def _wait_for_change_or_next_moment(self) -> None:
        """Wake on any change, new mail to send, or the next moment's timer. The timer stays
        armed across changes that leave the next moment where it was (most do), so a
        transition adds no timer to the history."""
        if self._timer is not None and self._timer.done():
            self._timer, self._timer_at = None, None
        moment = self._next_moment()
        if moment != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            if moment is not None:
                delay = max(moment - workflow.now(), timedelta(0))
                self._timer = asyncio.create_task(workflow.sleep(delay, summary=NEXT_MOMENT))
            self._timer_at = moment
        version = self._state.version
        await workflow.wait_condition(
            lambda: self._moved_since(version) or (self._timer is not None and self._timer.done())
        )

    async def _fire_due_timers(self) -> None:
        now = workflow.now()
        state = self._state
        notices: list[Notice] = []
        for days, at in lifecycle.due_reminders(state):
            if at > now:
                break
            if now < state.service_end_at:
                notices += lifecycle.reminders(state, days)
            else:  # came due while every process was down for long; too late to remind
                state.reminders_sent.append(days)
        if not state.deadline_passed and now >= state.service_end_at:
            notices += lifecycle.apply_deadline(state, now)
        if notices or state.version != self._saved_version:
            await self._save()
            self._outbox += notices
            self._publish()

    async def _send_outbox(self) -> None:
        while self._outbox:
            notice = self._outbox[0]
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
            self._outbox.pop(0)

    # --- persistence and visibility ------------------------------------------------

    async def _save(self, payout: contracts.PayoutEntry | None = None) -> None:
        """Project the current state before anyone is answered; save_change keeps the
        payout ledger with it. Runs from before the patch record ``payout`` separately."""
        if workflow.patched(LOCAL_PROJECTION_WRITES):
            await workflow.execute_local_activity(
                contracts.SAVE_CHANGE,
                self._state,
                result_type=contracts.SaveResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=PERSIST_RETRY,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            )
        else:
            if payout is not None:
                await _regular_write(
                    contracts.RECORD_PAYOUT,
                    payout,
                    bool,
                )
            await _regular_write(
                contracts.SAVE_ORDER,
                self._state,
                contracts.SaveResult,
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
        deadline = "已过" if state.deadline_passed else format_local(state.service_end_at)
        workflow.set_current_details(
            f"**订单状态** {state.status.label}\n\n"
            f"**开票** \n{invoices or '无'}\n\n"
            f"**退款** {refund}\n\n"
            f"**一年期限 (服务终止)** {deadline}"
        )

    # --- updates ---------------------------------------------------------------------

    def _check(self, command: Command) -> None:
        self._refuse_reused_key()
        try:
            lifecycle.check(self._state, command)
        except lifecycle.TransitionRefused as refused:
            raise ApplicationError(
                refused.message, type=REFUSED_PREFIX + refused.code, non_retryable=True
            ) from None

    async def _handle(self, command: Command) -> OrderState:
        async with self._lock:
            if self._rejected is not None:
                raise ApplicationError(
                    self._rejected, type=REFUSED_PREFIX + "not_found", non_retryable=True
                )
            # The state may have moved while this update waited for the lock.
            self._check(command)
            before = self._state.model_copy(deep=True)
            notices = lifecycle.apply(self._state, command, workflow.now())
            # Remembered with the change, not after its save: updates validated meanwhile
            # see the new state and must see the key that made it.
            remembered = self._remember_key()
            try:
                payout = (
                    contracts.payout_entry(self._state) if isinstance(command, Payout) else None
                )
                await self._save(payout)
            except (ActivityError, ApplicationError) as err:
                self._state = before
                if remembered is not None:
                    del self._keys[remembered]
                refusal = _refusal_of(err)
                if refusal is None:
                    raise
                raise ApplicationError(
                    refusal.message,
                    type=REFUSED_PREFIX + "invalid_transition",
                    non_retryable=True,
                ) from None
            self._outbox += notices
            self._publish()
            return self._state

    @staticmethod
    def _key_of_current_update() -> tuple[str, str] | None:
        info = workflow.current_update_info()
        return idempotency.split_update_id(info.id) if info is not None else None

    def _refuse_reused_key(self) -> None:
        """The same Idempotency-Key with another request: refused, nothing changes. (An
        exact retry never gets here: Temporal answers it with the first outcome.)"""
        key = self._key_of_current_update()
        if key is None:
            return
        scope, fingerprint = key
        if self._keys.get(scope, fingerprint) != fingerprint:
            raise ApplicationError(
                idempotency.conflict_message(scope),
                type=REFUSED_PREFIX + idempotency.CONFLICT,
                non_retryable=True,
            )

    def _remember_key(self) -> str | None:
        """Remember this update's key; answers its scope when it was new."""
        key = self._key_of_current_update()
        if key is None or key[0] in self._keys:
            return None
        self._keys[key[0]] = key[1]
        return key[0]

    @workflow.update
    async def recorded(self) -> OrderState:
        """Answers once the new order is readable in the database (or refuses it)."""
        await workflow.wait_condition(lambda: self._recorded or self._rejected is not None)
        if self._rejected is not None:
            raise ApplicationError(
                self._rejected, type=REFUSED_PREFIX + "duplicate", non_retryable=True
            )
        return self._state

    @workflow.update
    async def edit(self, command: EditOrder) -> OrderState:
        return await self._handle(command)

    @edit.validator
    def _validate_edit(self, command: EditOrder) -> None:
        self._check(command)

    @workflow.update
    async def confirm_receipt(self, command: ConfirmReceipt) -> OrderState:
        return await self._handle(command)

    @confirm_receipt.validator
    def _validate_confirm_receipt(self, command: ConfirmReceipt) -> None:
        self._check(command)

    @workflow.update
    async def decide_refund(self, command: DecideRefund) -> OrderState:
        return await self._handle(command)

    @decide_refund.validator
    def _validate_decide_refund(self, command: DecideRefund) -> None:
        self._check(command)

    @workflow.update
    async def apply_refund(self, command: ApplyRefund) -> OrderState:
        return await self._handle(command)

    @apply_refund.validator
    def _validate_apply_refund(self, command: ApplyRefund) -> None:
        self._check(command)

    @workflow.update
    async def edit_refund(self, command: EditRefund) -> OrderState:
        return await self._handle(command)

    @edit_refund.validator
    def _validate_edit_refund(self, command: EditRefund) -> None:
        self._check(command)

    @workflow.update
    async def approve(self, command: Approve) -> OrderState:
        return await self._handle(command)

    @approve.validator
    def _validate_approve(self, command: Approve) -> None:
        self._check(command)

    @workflow.update(name="return")
    async def return_order(self, command: ReturnOrder) -> OrderState:
        return await self._handle(command)

    @return_order.validator
    def _validate_return_order(self, command: ReturnOrder) -> None:
        self._check(command)

    @workflow.update
    async def void(self, command: VoidOrder) -> OrderState:
        return await self._handle(command)

    @void.validator
    def _validate_void(self, command: VoidOrder) -> None:
        self._check(command)

    @workflow.update
    async def record_settlement(self, command: RecordSettlement) -> OrderState:
        return await self._handle(command)

    @record_settlement.validator
    def _validate_record_settlement(self, command: RecordSettlement) -> None:
        self._check(command)

    @workflow.update
    async def agree_refund(self, command: AgreeRefund) -> OrderState:
        return await self._handle(command)

    @agree_refund.validator
    def _validate_agree_refund(self, command: AgreeRefund) -> None:
        self._check(command)

    @workflow.update
    async def return_refund(self, command: ReturnRefund) -> OrderState:
        return await self._handle(command)

    @return_refund.validator
    def _validate_return_refund(self, command: ReturnRefund) -> None:
        self._check(command)

    @workflow.update
    async def payout(self, command: Payout) -> OrderState:
        return await self._handle(command)

    @payout.validator
    def _validate_payout(self, command: Payout) -> None:
        self._check(command)

    @workflow.update
    async def issue_invoice(self, command: IssueInvoice) -> OrderState:
        return await self._handle(command)

    @issue_invoice.validator
    def _validate_issue_invoice(self, command: IssueInvoice) -> None:
        self._check(command)

    @workflow.update
    async def ship_invoice(self, command: ShipInvoice) -> OrderState:
        return await self._handle(command)

    @ship_invoice.validator
    def _validate_ship_invoice(self, command: ShipInvoice) -> None:
        self._check(command)

    @workflow.update
    async def return_invoice(self, command: ReturnInvoice) -> OrderState:
        return await self._handle(command)

    @return_invoice.validator
    def _validate_return_invoice(self, command: ReturnInvoice) -> None:
        self._check(command)

    @workflow.update
    async def edit_invoice(self, command: EditInvoice) -> OrderState:
        return await self._handle(command)

    @edit_invoice.validator
    def _validate_edit_invoice(self, command: EditInvoice) -> None:
        self._check(command)

    @workflow.query
    def state(self) -> OrderState:
        return self._state


# The update each command travels by, for callers that hold a command.
UPDATE_FOR_COMMAND = {
    EditOrder: ShopOrderWorkflow.edit,
    ConfirmReceipt: ShopOrderWorkflow.confirm_receipt,
    DecideRefund: ShopOrderWorkflow.decide_refund,
    ApplyRefund: ShopOrderWorkflow.apply_refund,
    EditRefund: ShopOrderWorkflow.edit_refund,
    Approve: ShopOrderWorkflow.approve,
    ReturnOrder: ShopOrderWorkflow.return_order,
    VoidOrder: ShopOrderWorkflow.void,
    RecordSettlement: ShopOrderWorkflow.record_settlement,
    AgreeRefund: ShopOrderWorkflow.agree_refund,
    ReturnRefund: ShopOrderWorkflow.return_refund,
    Payout: ShopOrderWorkflow.payout,
    IssueInvoice: ShopOrderWorkflow.issue_invoice,
    ShipInvoice: ShopOrderWorkflow.ship_invoice,
    ReturnInvoice: ShopOrderWorkflow.return_invoice,
    EditInvoice: ShopOrderWorkflow.edit_invoice,
}
