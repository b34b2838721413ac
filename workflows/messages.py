"""The typed input and results of ShopOrderWorkflow besides the commands (domain.commands)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.notices import Notice
from domain.order import OrderState


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
