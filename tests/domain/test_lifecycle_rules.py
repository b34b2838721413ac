"""What each actor may do in each state (the source of ``allowed_actions``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import lifecycle
from domain.catalog import Module, Platform
from domain.commands import Approve, ConfirmReceipt, DecideRefund, EditOrder, Payout, ReturnOrder
from domain.order import Actor, InvoiceProfileSnapshot, OrderState, ProductSnapshot
from domain.statuses import InvoiceType, OrderStatus, RefundDecision, Role, SettlementMode

BUYER = Actor(username="leiliang", role=Role.BUYER, company="快乐贸易有限公司")
REVIEWER = Actor(username="bmp", role=Role.REVIEWER)
FINANCE = Actor(username="finance", role=Role.FINANCE)
ADMIN = Actor(username="root", role=Role.ADMIN)
AT = datetime(2022, 10, 18, 6, 8, 31, tzinfo=UTC)


def order(mode: SettlementMode = SettlementMode.INVOICE_AND_REFUND) -> OrderState:
    share = {
        SettlementMode.INVOICE_ONLY: 0,
        SettlementMode.INVOICE_AND_REFUND: 5000,
        SettlementMode.REFUND_ONLY: 10000,
    }[mode]
    return OrderState(
        order_no="BS-ZX202210181408314977",
        buyer="leiliang",
        buyer_company="快乐贸易有限公司",
        product=ProductSnapshot(
            code="JD0001",
            name="E3-京东开放平台对接服务",
            line="E3",
            platform=Platform.JD,
            settlement_mode=mode,
            refund_share_bp=share,
            agreement="《店铺订购协议-E3》",
        ),
        modules=[Module(code="ERP", name="百胜电商ERP", price_fen=200_000)],
        standard_fen=200_000,
        invoice_profile=InvoiceProfileSnapshot(
            invoice_type=InvoiceType.VAT_SPECIAL,
            title="百胜软件",
            taxpayer_id="91350100M000100Y43",
            recipient_name="张三",
            recipient_mobile="19390000000",
            recipient_address="64565",
        ),
        contract_name="百胜软件",
        service_market_order_no="454364675",
        shop_name="567456",
        seller_nick="5432",
        baison_staff="001",
        reminder_name="001",
        reminder_mobile="13800138000",
        reminder_email="l123@123.com",
        placed_at=AT,
        service_end_at=AT.replace(year=2023),
        serial_no="221018000175",
        reserved_invoice_nos=["KP_202210_00040772", "KP_202210_00040773"],
    )


def test_submitted_order_allows_review_actions_to_the_reviewer_only() -> None:
    state = order()
    assert lifecycle.allowed_actions(state, REVIEWER) == ["approve", "return", "void"]
    assert lifecycle.allowed_actions(state, BUYER) == []
    assert lifecycle.allowed_actions(state, FINANCE) == []


def test_admin_may_do_every_staff_action() -> None:
    assert lifecycle.allowed_actions(order(), ADMIN) == ["approve", "return", "void"]


def test_approved_jd_order_lets_the_buyer_confirm_receipt() -> None:
    state = order()
    lifecycle.apply(state, Approve(actor=REVIEWER), AT)
    assert lifecycle.allowed_actions(state, BUYER) == ["confirm_receipt"]
    assert lifecycle.allowed_actions(state, REVIEWER) == ["void", "record_settlement"]


def test_completed_jd_order_offers_the_refund_decision_and_invoice_work() -> None:
    state = order()
    lifecycle.apply(state, Approve(actor=REVIEWER), AT)
    lifecycle.apply(state, ConfirmReceipt(actor=BUYER), AT)
    assert lifecycle.allowed_actions(state, BUYER) == ["decide_refund"]
    assert lifecycle.allowed_actions(state, REVIEWER) == [
        "record_settlement",
        "issue_invoice",
        "return_invoice",
    ]


def test_refund_decision_unlocks_the_application_once() -> None:
    state = order(SettlementMode.REFUND_ONLY)
    lifecycle.apply(state, Approve(actor=REVIEWER), AT)
    assert lifecycle.allowed_actions(state, BUYER) == ["decide_refund"]
    lifecycle.apply(state, DecideRefund(actor=BUYER, decision=RefundDecision.REFUND), AT)
    assert state.status is OrderStatus.COMPLETED
    assert lifecycle.allowed_actions(state, BUYER) == ["apply_refund"]


def test_another_buyer_is_allowed_nothing() -> None:
    state = order()
    lifecycle.apply(state, Approve(actor=REVIEWER), AT)
    assert lifecycle.allowed_actions(state, Actor(username="zhangsan", role=Role.BUYER)) == []


def test_payout_without_refund_is_refused_with_a_reason() -> None:
    refused = lifecycle.refusal(order(), lifecycle.Action.PAYOUT, FINANCE)
    assert refused is not None and refused.code is lifecycle.RefusalCode.INVALID_TRANSITION
    assert "没有退款申请" in refused.message


def test_check_refuses_a_reviewer_paying_out() -> None:
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        lifecycle.check(order(), Payout(actor=REVIEWER, amount_fen=1, bank_reference="x"))
    assert refused.value.code is lifecycle.RefusalCode.FORBIDDEN


def test_apply_increments_version_and_records_who_did_it() -> None:
    state = order()
    lifecycle.apply(state, Approve(actor=REVIEWER, platform_amount_fen=150_000), AT)
    assert state.version == 1
    assert (state.events[-1].actor, state.events[-1].action) == ("bmp", "approve")
    assert state.refundable_fen == 75_000


def test_edit_records_the_changed_fields_by_their_chinese_labels() -> None:
    state = order()
    lifecycle.apply(state, ReturnOrder(actor=REVIEWER, reason="店铺名称有误"), AT)
    lifecycle.apply(
        state,
        EditOrder(actor=BUYER, shop_name="新店名", seller_nick=state.seller_nick),
        AT,
    )
    assert state.events[-1].detail == "修改信息后重新提交审核: 店铺名称"
