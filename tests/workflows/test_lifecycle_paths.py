"""Every path of DOMAIN.md §4 on the time-skipping server, with the real activities."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from db import models
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    ConfirmReceipt,
    DecideRefund,
    EditOrder,
    EditRefund,
    IssueInvoice,
    Payout,
    RecordSettlement,
    ReturnOrder,
    ReturnRefund,
    ShipInvoice,
)
from domain.order import OrderState
from domain.statuses import (
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    RefundType,
    SettlementMode,
)
from tests.support.samples import BUYER, FINANCE, PROOF, REVIEWER, refund_account
from tests.workflows.harness import Lifecycle, keep_history
from workflows.shop_order import ShopOrderWorkflow

ACCOUNT = refund_account(RefundType.INDIVIDUAL)


async def refused(lifecycle: Lifecycle, handle, command) -> ApplicationError:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await lifecycle.act(handle, command)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def projected(lifecycle: Lifecycle, order_no: str) -> OrderState:
    async with lifecycle.sessions() as session:
        row = await session.get(models.Order, order_no)
        assert row is not None
        return OrderState.model_validate(row.state)


async def test_jd_order_walks_the_guides_example_to_the_end(lifecycle: Lifecycle) -> None:
    handle, state = await lifecycle.place(SettlementMode.INVOICE_AND_REFUND)
    assert state.serial_no and len(state.serial_no) == 12
    assert len(state.reserved_invoice_nos) == 2

    state = await lifecycle.act(handle, ReturnOrder(actor=REVIEWER, reason="店铺名称与平台不一致"))
    assert state.status is OrderStatus.RETURNED
    state = await lifecycle.act(handle, EditOrder(actor=BUYER, shop_name="快乐京东旗舰店"))
    assert (state.status, state.shop_name) == (OrderStatus.SUBMITTED, "快乐京东旗舰店")
    state = await lifecycle.act(handle, Approve(actor=REVIEWER))
    state = await lifecycle.act(handle, ConfirmReceipt(actor=BUYER))
    assert state.status is OrderStatus.COMPLETED
    assert [(i.amount_fen, i.status) for i in state.invoices] == [
        (100_000, InvoiceStatus.APPLIED),
        (100_000, InvoiceStatus.PENDING),
    ]
    state = await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    state = await lifecycle.act(handle, ApplyRefund(actor=BUYER, account=ACCOUNT, proof=PROOF))
    assert state.refund is not None and state.refund.amount_fen == 100_000
    assert state.refund.card == ACCOUNT.card
    # 待平台与百胜结算后，才能审核退款申请: returning it for changes is a review too.
    early = await refused(
        lifecycle, handle, ReturnRefund(actor=REVIEWER, reason="开户支行填写有误")
    )
    assert "待平台与百胜结算后" in early.message
    state = await lifecycle.act(handle, RecordSettlement(actor=REVIEWER))
    state = await lifecycle.act(handle, ReturnRefund(actor=REVIEWER, reason="开户支行填写有误"))
    assert state.refund is not None and state.refund.status is RefundStatus.CHANGES_REQUESTED
    state = await lifecycle.act(
        handle,
        EditRefund(actor=BUYER, account=ACCOUNT.model_copy(update={"branch": "上海浦东支行"})),
    )
    state = await lifecycle.act(handle, AgreeRefund(actor=REVIEWER))
    state = await lifecycle.act(
        handle, Payout(actor=FINANCE, amount_fen=100_000, bank_reference="ICBC20221020001")
    )
    assert state.refund is not None and state.refund.status is RefundStatus.REFUNDED
    assert [i.status for i in state.invoices] == [InvoiceStatus.APPLIED, InvoiceStatus.CANCELLED]
    first = state.invoices[0].invoice_app_no
    state = await lifecycle.act(
        handle,
        IssueInvoice(actor=REVIEWER, invoice_app_no=first, invoice_number="2398487928347283974234"),
    )
    state = await lifecycle.act(
        handle,
        ShipInvoice(actor=REVIEWER, invoice_app_no=first, courier="中通", tracking_no="123123123"),
    )
    assert state.invoices[0].status is InvoiceStatus.SHIPPED
    assert state.refund is not None
    assert [e.action for e in state.refund.log] == [
        "申请退款!",
        "退款修改 开户支行填写有误",
        "申请退款!",
        "同意退款",
        "已退款",
    ]  # type: ignore[union-attr]

    # The projection holds what the workflow holds; the ledger has the payout once.
    assert (await projected(lifecycle, state.order_no)).version == state.version
    async with lifecycle.sessions() as session:
        payouts = await session.scalar(
            select(func.count())
            .select_from(models.Payout)
            .where(models.Payout.order_no == state.order_no)
        )
    assert payouts == 1

    subjects = await lifecycle.mail_settled(5, state.order_no)
    assert any("被打回" in s for s in subjects)
    assert any("需要修改" in s for s in subjects)
    assert any("已同意退款" in s for s in subjects)
    assert any("已退款" in s for s in subjects)
    assert any("发票已寄送" in s for s in subjects)

    # The one-year deadline passes: nothing is left open, so the run completes.
    await lifecycle.env.sleep(timedelta(days=366))
    outcome = await handle.result()
    assert outcome.final.deadline_passed and outcome.final.status is OrderStatus.COMPLETED
    await keep_history(handle, "jd_guide_example")

    # Bank details are personal data: the raw history holds them only encrypted.
    raw = (await handle.fetch_history()).to_json()
    assert ACCOUNT.card.card_ref not in raw and "上海浦东支行" not in raw


async def test_agree_refund_before_settlement_is_refused(lifecycle: Lifecycle) -> None:
    handle, _ = await lifecycle.place(SettlementMode.REFUND_ONLY)
    await lifecycle.act(handle, Approve(actor=REVIEWER))
    await lifecycle.act(handle, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND))
    await lifecycle.act(
        handle,
        ApplyRefund(
            actor=BUYER, account=ACCOUNT.model_copy(update={"refund_type": RefundType.ENTERPRISE})
        ),
    )
    cause = await refused(lifecycle, handle, AgreeRefund(actor=REVIEWER))
    assert cause.type == "refused:invalid_transition"
    assert "待平台与百胜结算后" in cause.message
    state = await handle.query(ShopOrderWorkflow.state)
    assert state.refund is not None and state.refund.status is RefundStatus.APPLIED
