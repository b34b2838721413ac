"""Two edits of ShopOrderWorkflow for the evolution test: one careless, one patched. A module
of its own, with nothing else imported, as the workflow sandbox re-imports it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.shop_order import OrderOutcome, ShopOrderWorkflow, StartOrder


@workflow.defn(name="ShopOrderWorkflow")
class UnguardedChange(ShopOrderWorkflow):
    """A careless edit: a pause before the order is recorded, for every run, old ones too."""

    @workflow.run
    async def run(self, start: StartOrder) -> OrderOutcome:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(start)


@workflow.defn(name="ShopOrderWorkflow")
class PatchedChange(ShopOrderWorkflow):
    """The same edit done as the README says: only runs started after it take the pause."""

    @workflow.run
    async def run(self, start: StartOrder) -> OrderOutcome:
        if workflow.patched("pause-before-recording"):
            await workflow.sleep(timedelta(seconds=1))
        return await super().run(start)
