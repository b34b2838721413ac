"""An open run moves onto the newest code (continue-as-new) and carries on as if it never had."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from activities.mail import MailActivities
from activities.persistence import PersistenceActivities
from api.services.commands import digest_key, update_id
from domain import idempotency
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    ConfirmReceipt,
    DecideRefund,
    EditInvoice,
    IssueInvoice,
    Payout,
    RecordSettlement,
    ReturnInvoice,
    ShipInvoice,
)
from domain.inputs import InvoiceProfilePatch
from domain.order import OrderState
from domain.statuses import (
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    RefundType,
    SettlementMode,
)
from ops.upgrade_runs import open_runs_query, upgrade_runs
from settings import Settings
from tests.support.keys import TEST_PAYLOAD_KEYS
from tests.support.samples import BUYER, FINANCE, REVIEWER, refund_account
from tests.support.smtp import SmtpSink
from tests.support.time_skipping import running_lifecycle
from tests.workflows.harness import Lifecycle
from workflows import search_attributes, shop_order
from workflows.shop_order import ShopOrderWorkflow

Handle = WorkflowHandle[Any, Any]
PAST_DEADLINE = timedelta(days=366)
ENTERPRISE = refund_account(RefundType.ENTERPRISE)


async def run_ids(
    lifecycle: Lifecycle, handle: Handle
) -> tuple[str, WorkflowExecutionStatus | None]:
    """The order's newest run id, and how the run the handle was started with ended."""
    newest = await handle.describe()
    first = lifecycle.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    return newest.run_id, (await first.describe()).status


async def move(lifecycle: Lifecycle, handle: Handle) -> str:
    """Ask the run to move; answers the new run's id once it has moved."""
    before = (await handle.describe()).run_id
    await handle.execute_update(ShopOrderWorkflow.upgrade)
    for _ in range(100):
        after = (await handle.describe()).run_id
        if after != before:
            return after
        await lifecycle.env.sleep(timedelta(milliseconds=100))
    raise AssertionError(f"{handle.id} is still on run {before}")


async def open_with_pending_refund_and_returned_invoice(
    lifecycle: Lifecycle,
) -> tuple[Handle, OrderState]:
    """A JD order: receipt confirmed, 退款 filed and waiting, the first invoice 打回."""
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    await lifecycle.act(handle, ApplyRefund(actor=BUYER, account=ENTERPRISE))
    first = state.invoices[0].invoice_app_no
    state = await lifecycle.act(
        handle, ReturnInvoice(actor=REVIEWER, invoice_app_no=first, reason="抬头有误")
    )
    return handle, state


async def finish(lifecycle: Lifecycle, handle: Handle, invoice_number: str) -> None:
    """Settlement, refund agreed and paid, the invoice corrected, issued and shipped."""
    state = await lifecycle.act(handle, RecordSettlement(actor=REVIEWER))
    first = state.invoices[0].invoice_app_no
    await lifecycle.act(handle, AgreeRefund(actor=REVIEWER))
    await lifecycle.act(handle, Payout(actor=FINANCE, amount_fen=100_000, bank_reference="B1"))
    await lifecycle.act(
        handle,
        EditInvoice(
            actor=BUYER, invoice_app_no=first, patch=InvoiceProfilePatch(title="快乐贸易(上海)")
        ),
    )
    await lifecycle.act(
        handle, IssueInvoice(actor=REVIEWER, invoice_app_no=first, invoice_number=invoice_number)
    )
    await lifecycle.act(
        handle, ShipInvoice(actor=REVIEWER, invoice_app_no=first, courier="中通", tracking_no="T1")
    )


def identities(state: OrderState, invoice_number: str) -> dict[str, str]:
    """What differs between two orders by nature (their numbers), each with a placeholder."""
    placeholders = {
        state.order_no: "<order>",
        state.service_market_order_no: "<service-market-no>",
        invoice_number: "<invoice-number>",
    }
    if state.serial_no:
        placeholders[state.serial_no] = "<serial>"
    if state.refund is not None:
        placeholders[state.refund.refund_id] = "<refund>"
    app_nos = [i.invoice_app_no for i in state.invoices] + state.reserved_invoice_nos
    for position, number in enumerate(app_nos):
        placeholders.setdefault(number, f"<invoice-app-{position}>")
    return placeholders


def without_identity(value: Any, placeholders: dict[str, str]) -> Any:
    """``value`` with the order's numbers replaced by placeholders and its moments left out,
    so two orders driven alike compare equal."""
    if isinstance(value, dict):
        return {
            key: without_identity(item, placeholders)
            for key, item in value.items()
            if key != "at" and not key.endswith("_at")
        }
    if isinstance(value, list):
        return [without_identity(item, placeholders) for item in value]
    if isinstance(value, str):
        for original, placeholder in placeholders.items():
            value = value.replace(original, placeholder)
    return value


def comparable(lifecycle: Lifecycle, final: OrderState, invoice_number: str) -> dict[str, Any]:
    """The final state and the subjects of the order's e-mails, numbers and moments aside."""
    placeholders = identities(final, invoice_number)
    return {
        "state": without_identity(final.model_dump(mode="json"), placeholders),
        "mail": sorted(without_identity(lifecycle.smtp.subjects(final.order_no), placeholders)),
    }


async def test_upgrade_moves_a_run_with_a_pending_refund_a_returned_invoice_and_reminders_to_come_and_it_finishes_as_if_it_never_moved(
    lifecycle: Lifecycle,
) -> None:
    moved, moved_state = await open_with_pending_refund_and_returned_invoice(lifecycle)
    stayed, _ = await open_with_pending_refund_and_returned_invoice(lifecycle)
    # The 30-day reminders go out; the 7- and 1-day ones are still to come at the move.
    until_end = moved_state.service_end_at - await lifecycle.env.get_current_time()
    await lifecycle.env.sleep(until_end - timedelta(days=29))
    before_move = await moved.query(ShopOrderWorkflow.state)
    assert before_move.reminders_sent == [30]
    assert before_move.refund is not None and before_move.refund.status is RefundStatus.APPLIED
    assert before_move.invoices[0].status is InvoiceStatus.RETURNED

    new_run_id = await move(lifecycle, moved)

    assert await run_ids(lifecycle, moved) == (new_run_id, WorkflowExecutionStatus.CONTINUED_AS_NEW)
    assert (await moved.query(ShopOrderWorkflow.state)) == before_move
    old_run = lifecycle.client.get_workflow_handle(moved.id, run_id=moved.first_execution_run_id)
    published = (await moved.describe()).typed_search_attributes
    assert published == (await old_run.describe()).typed_search_attributes
    assert published.get(search_attributes.REFUND_STATUS) == RefundStatus.APPLIED.value
    await finish(lifecycle, moved, invoice_number="N-MOVED")
    await finish(lifecycle, stayed, invoice_number="N-STAYED")
    await lifecycle.env.sleep(PAST_DEADLINE)
    moved_final = (await moved.result()).final
    stayed_final = (await stayed.result()).final

    assert moved_final is not None and stayed_final is not None
    assert (moved_final.status, stayed_final.status) == (OrderStatus.COMPLETED,) * 2
    assert [i.status for i in moved_final.invoices] == [
        InvoiceStatus.SHIPPED,
        InvoiceStatus.CANCELLED,
    ]
    assert [i.status for i in moved_final.invoices] == [i.status for i in stayed_final.invoices]
    assert moved_final.refund is not None and stayed_final.refund is not None
    assert [e.action for e in moved_final.refund.log] == [e.action for e in stayed_final.refund.log]
    assert [e.action for e in moved_final.events] == [e.action for e in stayed_final.events]
    assert moved_final.reminders_sent == stayed_final.reminders_sent == [30, 7, 1]
    assert moved_final.version == stayed_final.version
    # Each run sent its mail before it ended, so all of it has arrived.
    moved_all = comparable(lifecycle, moved_final, "N-MOVED")
    stayed_all = comparable(lifecycle, stayed_final, "N-STAYED")
    assert moved_all["state"] == stayed_all["state"]
    assert moved_all["mail"] == stayed_all["mail"]
    assert sum("到期" in subject for subject in moved_all["mail"]) == 3


async def test_idempotency_key_applied_before_a_move_is_not_applied_again_after_it(
    lifecycle: Lifecycle,
) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    confirm = ConfirmReceipt(actor=BUYER)
    repeatable_id = update_id(confirm, "key-1", digest_key(lifecycle.client))
    assert repeatable_id is not None and idempotency.split_update_id(repeatable_id) is not None
    confirmed = await lifecycle.act(handle, confirm, update_id=repeatable_id)

    await move(lifecycle, handle)
    repeated = await lifecycle.act(handle, confirm, update_id=repeatable_id)

    assert repeated.version == confirmed.version
    assert repeated == confirmed
    # The same key with another request: refused, the order unchanged.
    decide = DecideRefund(actor=BUYER, decision=RefundDecision.NO_REFUND)
    reused_id = update_id(decide, "key-1", digest_key(lifecycle.client))
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await lifecycle.act(handle, decide, update_id=reused_id)
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == shop_order.REFUSED_PREFIX + idempotency.CONFLICT
    assert (await handle.query(ShopOrderWorkflow.state)).version == confirmed.version


async def test_run_moves_by_itself_when_its_history_passes_the_limit(
    lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lifecycle worker's sandbox passes every module through, so the workflow reads
    # this very module's limit; had it its own copy, the run would not move and this fails.
    monkeypatch.setattr(shop_order, "HISTORY_EVENTS_BEFORE_MOVING", 30)
    handle, state = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    after = await lifecycle.act(handle, ApplyRefund(actor=BUYER, account=ENTERPRISE))

    newest_run_id, first_run_ended = await run_ids(lifecycle, handle)
    assert first_run_ended is WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert newest_run_id != handle.first_execution_run_id
    assert await handle.query(ShopOrderWorkflow.state) == after
    assert after.refund is not None and after.refund.status is RefundStatus.APPLIED
    assert after.serial_no == state.serial_no


@pytest.fixture
async def dev_lifecycle(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> AsyncIterator[Lifecycle]:
    """The lifecycle harness on the dev server: the time-skipping one cannot list runs."""
    async with running_lifecycle(
        dev_server, session_maker, smtp_sink, tmp_path, "upgrade"
    ) as running:
        yield running


async def test_upgrade_runs_moves_every_open_order(dev_lifecycle: Lifecycle) -> None:
    first, _ = await dev_lifecycle.place(SettlementMode.INVOICE_ONLY)
    second, _ = await dev_lifecycle.place(SettlementMode.REFUND_ONLY)
    # Only this test's orders: the dev server is shared with other tests.
    these = f'WorkflowId="{first.id}" OR WorkflowId="{second.id}"'
    for _ in range(50):  # the visibility store catches up within moments
        if (await dev_lifecycle.client.count_workflows(open_runs_query(these))).count == 2:
            break
        await asyncio.sleep(0.1)
    lines: list[str] = []

    report = await upgrade_runs(dev_lifecycle.client, query=these, wait=True, say=lines.append)

    assert (report.found, report.asked, report.moved, report.failed) == (2, 2, 2, [])
    assert lines[0] == "2 open order runs"
    assert any(line.startswith("1/2 ") and "asked (history" in line for line in lines)
    assert lines[-1] == "moved 2 of 2; 0 ended on their own; 0 failed"
    for handle in (first, second):
        ended = (await run_ids(dev_lifecycle, handle))[1]
        assert ended is WorkflowExecutionStatus.CONTINUED_AS_NEW


class SlowToMove(WorkflowInboundInterceptor):
    """Holds the workflow task in which the run decides to move, so an update can be sent
    while it is in flight."""

    deciding = threading.Event()

    def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        if input.update == "upgrade":
            self.deciding.set()
            time.sleep(1.0)  # below the worker's two-second deadlock detection
        return super().handle_update_handler(input)


class HoldTheMove(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return SlowToMove


async def test_update_sent_while_the_run_moves_is_applied_once_by_the_new_run(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    """The server hands an update that arrived during the moving workflow task to the new
    run; the caller just gets its answer. (The time-skipping server instead delivers it to
    the old run, which applies it before moving; the outcome is the same.)"""
    settings = Settings(
        environment="development", data_dir=tmp_path, payload_keys=TEST_PAYLOAD_KEYS
    )
    persistence = PersistenceActivities(session_maker)
    mail = MailActivities(session_maker, settings)
    task_queue = f"moving-{uuid.uuid4().hex[:8]}"
    SlowToMove.deciding.clear()
    async with Worker(
        dev_server.client,
        task_queue=task_queue,
        workflows=[ShopOrderWorkflow],
        activities=[persistence.record_placement, persistence.save_change, mail.send_email],
        # time.sleep is refused inside the sandbox; the hold is test-only.
        workflow_runner=UnsandboxedWorkflowRunner(),
        interceptors=[HoldTheMove()],
    ):
        lifecycle = Lifecycle(dev_server, task_queue, session_maker, smtp_sink)
        handle, _ = await lifecycle.place(SettlementMode.INVOICE_ONLY)
        upgrade = asyncio.create_task(handle.execute_update(ShopOrderWorkflow.upgrade))
        await asyncio.to_thread(SlowToMove.deciding.wait, 10)

        approved = await lifecycle.act(handle, Approve(actor=REVIEWER))
        await upgrade

        newest_run_id, first_run_ended = await run_ids(lifecycle, handle)
        assert first_run_ended is WorkflowExecutionStatus.CONTINUED_AS_NEW
        assert (approved.status, approved.version) == (OrderStatus.APPROVED, 1)
        assert await handle.query(ShopOrderWorkflow.state) == approved
        assert await accepted_updates(lifecycle, handle.id, newest_run_id) == ["approve"]
        assert "approve" not in await accepted_updates(
            lifecycle, handle.id, handle.first_execution_run_id
        )


async def accepted_updates(lifecycle: Lifecycle, workflow_id: str, run_id: str | None) -> list[str]:
    """The names of the updates one run accepted, in order."""
    run = lifecycle.client.get_workflow_handle(workflow_id, run_id=run_id)
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        async for event in run.fetch_history_events()
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]
