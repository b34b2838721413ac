"""A step's update answers the order with only the 操作记录 its caller has not read, and the
caller completes it from the record it holds (workflows.messages.StepAnswer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.client import WorkflowHandle

from db import models
from domain.commands import Approve, ConfirmReceipt, DecideRefund
from domain.order import Event, OrderState
from domain.statuses import RefundDecision, SettlementMode
from tests.support.samples import BUYER, REVIEWER
from tests.workflows.harness import Lifecycle
from workflows.messages import StepAnswer, step_answer, whole_order
from workflows.shop_order import ShopOrderWorkflow


async def recorded_answers(
    lifecycle: Lifecycle, handle: WorkflowHandle[Any, Any]
) -> list[StepAnswer]:
    """The step answers the run's history holds, decoded as the API decodes them (after the
    first: ``recorded``'s, the whole order)."""
    answers: list[StepAnswer] = []
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_update_completed_event_attributes"):
            completed = event.workflow_execution_update_completed_event_attributes
            payloads = completed.outcome.success.payloads
            [answer] = await lifecycle.client.data_converter.decode(payloads, [StepAnswer])
            answers.append(answer)
    assert answers[0].events_from == 0
    return answers[1:]


async def test_each_step_answers_only_the_entries_its_caller_has_not_read(
    lifecycle: Lifecycle,
) -> None:
    handle, placed = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    final = await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    answers = await recorded_answers(lifecycle, handle)
    assert len(answers) == 3 and len(final.events) > len(placed.events) + 2
    known = len(placed.events)
    for answer in answers:
        # One entry the caller read (none at first), then the ones this step added.
        assert answer.events_from == max(known - 1, 0)
        end = answer.events_from + len(answer.events)
        assert answer.events == final.events[answer.events_from : end]
        known = end
    assert known == len(final.events)
    assert answers[-1].events_from > 0 and len(answers[-1].events) < len(final.events)
    now: OrderState = await handle.query(ShopOrderWorkflow.state)
    assert final == now


async def test_the_answer_completed_from_the_projection_is_the_order_as_stored(
    lifecycle: Lifecycle,
) -> None:
    handle, placed = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    [answer] = await recorded_answers(lifecycle, handle)
    # The caller's copy from before the change is enough ...
    before = whole_order(answer, placed.events)
    async with lifecycle.sessions() as session:
        row = await session.get(models.Order, placed.order_no)
        assert row is not None
        stored = OrderState.model_validate(row.state)
    # ... and so is the projection, written before the answer.
    assert before == whole_order(answer, stored.events) == stored


def event(n: int) -> Event:
    return Event(at=datetime(2026, 11, 30, 10, n, tzinfo=UTC), actor="x", action=f"a{n}")


async def test_a_record_behind_the_answer_or_unlike_it_is_not_completed_from(
    lifecycle: Lifecycle,
) -> None:
    _, placed = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    read = [event(1), event(2)]
    answer = step_answer(placed.model_copy(update={"events": [*read, event(3)]}), len(read))
    assert answer.events == [event(2), event(3)]
    whole = whole_order(answer, read)
    assert whole is not None and whole.events == [event(1), event(2), event(3)]
    assert type(whole) is OrderState
    # A change landed after the caller read the order: its copy is one entry short.
    assert whole_order(answer, read[:1]) is None
    # The caller read a write superseded since (same count, another time): not the same record.
    superseded = [event(1), event(2).model_copy(update={"detail": "lost task"})]
    assert whole_order(answer, superseded) is None
    # A longer copy (read after the change) serves as well.
    assert whole_order(answer, [*read, event(3), event(4)]) == whole
    # An answer recorded before answers were cut is the whole order as it is.
    old = StepAnswer.model_validate_json(whole.model_dump_json())
    assert old.events_from == 0 and whole_order(old, []) == whole
