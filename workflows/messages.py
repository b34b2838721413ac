"""The typed input and results of ShopOrderWorkflow besides the commands (domain.commands)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.notices import Notice
from domain.order import Event, OrderState


class Carried(BaseModel):
    """What a run hands to the run that continues it, besides the order itself."""

    # Idempotency-Key scope -> fingerprint of the request that changed the order with it.
    keys: dict[str, str] = Field(default_factory=dict)
    # E-mails decided but not yet sent.
    outbox: list[Notice] = Field(default_factory=list)


class StartOrder(BaseModel):
    order: OrderState
    # Set when a run continues an earlier one of the same order (already recorded).
    carried: Carried | None = None


class OrderOutcome(BaseModel):
    order_no: str
    rejected: str | None = None
    final: OrderState | None = None


class UpgradeAnswer(BaseModel):
    order_no: str
    history_length: int


class StepAnswer(OrderState):
    """What a step's update answers: the order after the change, its 操作记录 (``events``)
    from ``events_from`` on only. The caller already holds the earlier entries (the order it
    read to send the change), and the record only grows: answering all of it every time
    made each answer, which Temporal encrypts, stores in the history and sends, grow with
    every step. One entry the caller should already have is repeated, so ``whole_order``
    can tell that the caller's copy is the same record.

    ``events_from`` 0 is the whole record: a run's first change, and every answer recorded
    before answers were cut (their JSON has no ``events_from``, so they read as this too).
    """

    events_from: int = 0


def step_answer(state: OrderState, events_before: int) -> StepAnswer:
    """``state``'s answer to a caller who read it with ``events_before`` entries recorded."""
    start = max(events_before - 1, 0)
    fields = {name: getattr(state, name) for name in OrderState.model_fields}
    return StepAnswer.model_construct(
        state.model_fields_set | {"events_from"},
        **fields | {"events": state.events[start:], "events_from": start},
    )


def whole_order(answer: StepAnswer, known: list[Event]) -> OrderState | None:
    """The order ``answer`` stands for, its earlier entries taken from ``known`` (the record as
    the caller read it, before or after the change); None when ``known`` is not the same
    record up to where the answer starts (shorter: a change landed in between; different: a
    write superseded since), and the caller must read the order again."""
    start = answer.events_from
    if start > 0 and (len(known) <= start or known[start] != answer.events[0]):
        return None
    fields = {name: getattr(answer, name) for name in OrderState.model_fields}
    return OrderState.model_construct(
        answer.model_fields_set - {"events_from"},
        **fields | {"events": [*known[:start], *answer.events]},
    )
