"""Settlement modes, amounts and refusals of the lifecycle, on the time-skipping server."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.commands import (
    ApplyRefund,
    Approve,
    Command,
    ConfirmReceipt,
    DecideRefund,
    EditInvoice,
    EditOrder,
    IssueInvoice,
    ReturnInvoice,
    ReturnOrder,
    VoidOrder,
)
from domain.inputs import InvoiceProfilePatch
from domain.statuses import (
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundType,
    SettlementMode,
)
from tests.support.samples import BUYER, FINANCE, OTHER_BUYER, REVIEWER, refund_account
from tests.workflows.harness import Lifecycle, keep_history
from workflows import search_attributes
from workflows.shop_order import ShopOrderWorkflow, StartOrder

ENTERPRISE = refund_account(RefundType.ENTERPRISE)


async def refusal_of(lifecycle: Lifecycle, handle, command: Command) -> ApplicationError:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await lifecycle.act(handle, command)
    assert isinstance(failure.value.cause, ApplicationError)
    return failure.value.cause


async def test_confirm_receipt_invoice_only_creates_one_application_for_the_whole_amount(
    lifecycle: Lifecycle,
) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_ONLY, price_fen=600_000)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    assert state.status is OrderStatus.COMPLETED
    assert [(i.amount_fen, i.status) for i in state.invoices] == [(600_000, InvoiceStatus.APPLIED)]
    assert state.invoices[0].invoice_app_no.startswith("KP_")
    cause = await refusal_of(
        lifecycle, handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND)
    )
    assert cause.type == "refused:invalid_transition"
    await keep_history(handle, "invoice_only_confirm_receipt")


async def test_decide_refund_only_has_no_receipt_step(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.REFUND_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    cause = await refusal_of(lifecycle, handle, ConfirmReceipt(actor=BUYER))
    assert "没有确认收货这一步" in cause.message
    state = await lifecycle.act(
        handle, DecideRefund(actor=BUYER, decision=RefundDecision.NO_REFUND)
    )
    assert state.status is OrderStatus.COMPLETED
    assert [(i.amount_fen, i.status) for i in state.invoices] == [(200_000, InvoiceStatus.APPLIED)]
    await keep_history(handle, "refund_only_no_refund")


async def test_decide_refund_is_final(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    state = await lifecycle.act(
        handle, DecideRefund(actor=BUYER, decision=RefundDecision.NO_REFUND)
    )
    assert [i.status for i in state.invoices] == [InvoiceStatus.APPLIED, InvoiceStatus.APPLIED]
    cause = await refusal_of(
        lifecycle, handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND)
    )
    assert cause.type == "refused:invalid_transition"
    assert "一旦选择不能更换" in cause.message
    assert (await handle.query(ShopOrderWorkflow.state)).refund_decision is RefundDecision.NO_REFUND


async def test_approve_with_platform_amount_rounds_the_refundable_share_half_up(
    lifecycle: Lifecycle,
) -> None:
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER, platform_amount_fen=150_001))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    assert [i.amount_fen for i in state.invoices] == [75_000, 75_001]
    assert sum(i.amount_fen for i in state.invoices) == 150_001
    state = await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    state = await lifecycle.act(handle, ApplyRefund(actor=BUYER, account=ENTERPRISE))
    assert state.refund is not None and state.refund.amount_fen == 75_001


async def test_approve_platform_amount_above_subtotal_is_invalid_input(
    lifecycle: Lifecycle,
) -> None:
    handle, _ = await lifecycle.place()
    cause = await refusal_of(
        lifecycle, handle, Approve(actor=REVIEWER, platform_amount_fen=200_001)
    )
    assert cause.type == "refused:invalid_input"
    assert (await handle.query(ShopOrderWorkflow.state)).status is OrderStatus.SUBMITTED


async def test_confirm_receipt_on_returned_order_names_state_and_need(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place()
    await lifecycle.act(handle, ReturnOrder(actor=REVIEWER, reason="信息有误"))
    cause = await refusal_of(lifecycle, handle, ConfirmReceipt(actor=BUYER))
    assert cause.type == "refused:invalid_transition"
    assert cause.message == f"订单 {state.order_no} 当前为「打回」，确认收货需要「已审核」"


async def test_another_buyer_is_told_not_found_and_changes_nothing(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place()
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    cause = await refusal_of(lifecycle, handle, ConfirmReceipt(actor=OTHER_BUYER))
    assert cause.type == "refused:not_found"
    after = await handle.query(ShopOrderWorkflow.state)
    assert (after.status, after.version) == (OrderStatus.APPROVED, state.version + 1)


async def test_finance_may_not_approve(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place()
    cause = await refusal_of(lifecycle, handle, Approve(actor=FINANCE))
    assert cause.type == "refused:forbidden"


async def test_individual_refund_without_proof_is_invalid_input(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.REFUND_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    individual = ENTERPRISE.model_copy(update={"refund_type": RefundType.INDIVIDUAL})
    cause = await refusal_of(lifecycle, handle, ApplyRefund(actor=BUYER, account=individual))
    assert cause.type == "refused:invalid_input"
    assert (await handle.query(ShopOrderWorkflow.state)).refund is None


async def test_void_ends_the_run_and_tells_the_buyer(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place()
    await lifecycle.act(handle, VoidOrder(actor=REVIEWER, reason="重复下单"))
    outcome = await handle.result()
    assert outcome.final.status is OrderStatus.VOIDED and outcome.final.void_reason == "重复下单"
    assert any("已作废" in s for s in await lifecycle.mail_settled(1, state.order_no))
    await keep_history(handle, "void")


async def test_same_update_id_is_applied_once(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place()
    update_id = f"approve:bmp:{uuid.uuid4()}"
    first = await lifecycle.act(handle, Approve(actor=REVIEWER, note="一次"), update_id=update_id)
    second = await lifecycle.act(handle, Approve(actor=REVIEWER, note="一次"), update_id=update_id)
    assert first.version == second.version == state.version + 1
    assert [e.action for e in second.events].count("approve") == 1


async def test_edit_invoice_after_issue_is_refused_and_before_is_reapplied(
    lifecycle: Lifecycle,
) -> None:
    handle, state = await lifecycle.place(SettlementMode.INVOICE_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    app_no = state.invoices[0].invoice_app_no
    await lifecycle.act(
        handle, ReturnInvoice(actor=REVIEWER, invoice_app_no=app_no, reason="抬头有误")
    )
    state = await lifecycle.act(
        handle,
        EditInvoice(
            actor=BUYER,
            invoice_app_no=app_no,
            patch=InvoiceProfilePatch(title="快乐贸易(上海)有限公司"),
        ),
    )
    assert (state.invoices[0].status, state.invoices[0].profile.title) == (
        InvoiceStatus.APPLIED,
        "快乐贸易(上海)有限公司",
    )
    await lifecycle.act(
        handle, IssueInvoice(actor=REVIEWER, invoice_app_no=app_no, invoice_number="1234567890")
    )
    cause = await refusal_of(
        lifecycle,
        handle,
        EditInvoice(actor=BUYER, invoice_app_no=app_no, patch=InvoiceProfilePatch(title="改")),
    )
    assert "发票开出后不能再修改" in cause.message
    assert any("被打回" in s for s in await lifecycle.mail_settled(1, state.order_no))


async def test_a_second_live_order_for_a_service_market_no_is_recorded_nowhere_and_ends(
    lifecycle: Lifecycle,
) -> None:
    """The database's refusal (a race the API's own check can lose) ends the run, rejected."""
    _, first = await lifecycle.place()
    second = first.model_copy(update={"order_no": first.order_no[:-4] + "0000", "version": 0})
    handle = await lifecycle.client.start_workflow(
        ShopOrderWorkflow.run,
        StartOrder(order=second),
        id=second.order_no,
        task_queue=lifecycle.task_queue,
    )
    outcome = await handle.result()
    assert outcome.final is None
    assert outcome.rejected == (
        f"服务市场订单号 {first.service_market_order_no} 已有进行中的订单 {first.order_no}"
    )


async def test_an_edit_to_a_taken_service_market_no_is_refused_and_changes_nothing(
    lifecycle: Lifecycle,
) -> None:
    _, taken = await lifecycle.place()
    handle, _ = await lifecycle.place()
    returned = await lifecycle.act(handle, ReturnOrder(actor=REVIEWER, reason="店铺名称有误"))
    cause = await refusal_of(
        lifecycle,
        handle,
        EditOrder(actor=BUYER, service_market_order_no=taken.service_market_order_no),
    )
    assert cause.type == "refused:invalid_transition"
    assert "已有进行中的订单" in cause.message
    assert await handle.query(ShopOrderWorkflow.state) == returned


async def test_invoice_status_search_attribute_lists_every_status_the_order_has(
    lifecycle: Lifecycle,
) -> None:
    """Ops search "InvoiceStatus='applied'" for invoices to issue: a JD order whose second
    application waits for the refund decision must still be found."""
    handle, _ = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    described = await handle.describe()
    assert described.typed_search_attributes.get(search_attributes.INVOICE_STATUS) == [
        "pending",
        "applied",
    ]
