"""The refund's steps (DOMAIN.md §4, 退款): the decision, the application and its
correction, the platform settlement that gates review, review, and finance's payout."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.calendar import format_local_date
from domain.commands import (
    Action,
    AgreeRefund,
    ApplyRefund,
    DecideRefund,
    EditRefund,
    Payout,
    RecordSettlement,
    ReturnRefund,
)
from domain.ids import refund_id_for
from domain.money import format_fen
from domain.notices import Notice, Template, buyer_notice
from domain.order import Actor, OrderState, Refund
from domain.statuses import (
    BUYERS,
    FINANCE_STAFF,
    REVIEWERS,
    InvoiceStatus,
    OrderStatus,
    RefundDecision,
    RefundStatus,
    RefundType,
    SettlementMode,
)
from domain.steps.bookkeeping import (
    current_refund,
    invoice_refundable_share,
    log_refund,
    pending_slot,
    record,
)
from domain.steps.step import Step, Target, all_of, order_in, refund_in

# --- 退款 / 不退款 -------------------------------------------------------------------------


def _decision_open(state: OrderState, step: Step[Any]) -> str | None:
    if state.mode is SettlementMode.INVOICE_ONLY:
        return f"订单 {state.order_no} 是只开票商品，没有退款/不退款的选择"
    if state.refund_decision is not None:
        return f"订单 {state.order_no} 已选择「{state.refund_decision.label}」，一旦选择不能更换"
    # refund_only decides right after approval; invoice_and_refund after 确认收货.
    if state.mode is SettlementMode.REFUND_ONLY:
        return order_in(OrderStatus.APPROVED)(state, step)
    return order_in(OrderStatus.COMPLETED)(state, step)


def decide_refund(
    state: OrderState, actor: Actor, decision: RefundDecision, at: datetime, automatic: bool = False
) -> list[Notice]:
    """退款 or 不退款, by the buyer or (不退款) by the deadline; final either way."""
    state.refund_decision = decision
    if state.mode is SettlementMode.REFUND_ONLY:
        state.status = OrderStatus.COMPLETED
        state.completed_at = at
    if decision is RefundDecision.NO_REFUND:
        invoice_refundable_share(state, at, automatic)
    detail = decision.label + (" (逾期自动)" if automatic else "")
    record(state, at, actor, Action.DECIDE_REFUND, detail)
    return []


DECIDE_REFUND = Step(
    action=Action.DECIDE_REFUND,
    label="退款/不退款",
    roles=BUYERS,
    command=DecideRefund,
    when=_decision_open,
    effect=lambda state, cmd, at: decide_refund(state, cmd.actor, cmd.decision, at),
)

# --- 申请退款 and its correction ---------------------------------------------------------


def _may_file(state: OrderState, step: Step[Any]) -> str | None:
    if state.refund_decision is not RefundDecision.REFUND:
        return f"订单 {state.order_no} 没有选择退款，{step.label}需要先选择「退款」"
    if state.refund is not None:
        refund = state.refund
        return f"订单 {state.order_no} 已有退款申请 {refund.refund_id}（{refund.status.label}）"
    if state.deadline_passed:
        return f"订单 {state.order_no} 已超过一年退款期限，不能再申请退款"
    return None


def _proof_for_individual(state: OrderState, cmd: ApplyRefund) -> str | None:
    has_proof = cmd.proof is not None or (
        isinstance(cmd, EditRefund) and state.refund is not None and state.refund.proof is not None
    )
    if cmd.account.refund_type is RefundType.INDIVIDUAL and not has_proof:
        return "个人退款需要上传盖有公司公章的证明文件"
    return None


def _fill(refund: Refund, cmd: ApplyRefund) -> None:
    account = cmd.account
    refund.refund_type = account.refund_type
    refund.account_name = account.account_name
    refund.bank = account.bank
    refund.branch = account.branch
    refund.card = account.card
    refund.region = account.region
    if cmd.proof is not None:
        refund.proof = cmd.proof


def _apply(state: OrderState, cmd: ApplyRefund, at: datetime) -> list[Notice]:
    refund = Refund(
        refund_id=refund_id_for(state.order_no),
        amount_fen=state.refundable_fen,
        status=RefundStatus.APPLIED,
        applied_at=at,
    )
    _fill(refund, cmd)
    log_refund(refund, at, cmd.actor, "申请退款!")
    state.refund = refund
    kind = refund.refund_type and refund.refund_type.label
    record(state, at, cmd.actor, cmd.action, f"{kind} {format_fen(refund.amount_fen)}")
    return []


APPLY_REFUND = Step(
    action=Action.APPLY_REFUND,
    label="申请退款",
    roles=BUYERS,
    command=ApplyRefund,
    when=_may_file,
    check_input=_proof_for_individual,
    input_field="proof",
    effect=_apply,
)


def _edit(state: OrderState, cmd: EditRefund, at: datetime) -> list[Notice]:
    refund = current_refund(state)
    _fill(refund, cmd)
    refund.status = RefundStatus.APPLIED
    refund.return_reason = None
    refund.correct_by = None
    refund.applied_at = at
    log_refund(refund, at, cmd.actor, "申请退款!")
    record(state, at, cmd.actor, cmd.action, "修改退款信息后重新申请")
    return []


EDIT_REFUND = Step(
    action=Action.EDIT_REFUND,
    label="修改退款申请",
    roles=BUYERS,
    command=EditRefund,
    when=refund_in(RefundStatus.CHANGES_REQUESTED),
    check_input=_proof_for_individual,
    input_field="proof",
    effect=_edit,
    target=Target.REFUND,
)

# --- the platform's settlement, which review waits for ------------------------------------


def _not_yet_settled(state: OrderState, step: Step[Any]) -> str | None:
    if state.settled:
        return f"订单 {state.order_no} 的平台结算已记录"
    return None


def _record_settlement(state: OrderState, cmd: RecordSettlement, at: datetime) -> list[Notice]:
    state.settled = True
    state.settled_at = at
    record(state, at, cmd.actor, cmd.action, cmd.note or "平台已与百胜结算")
    return []


RECORD_SETTLEMENT = Step(
    action=Action.RECORD_SETTLEMENT,
    label="平台结算",
    roles=REVIEWERS,
    command=RecordSettlement,
    when=all_of(_not_yet_settled, order_in(OrderStatus.APPROVED, OrderStatus.COMPLETED)),
    effect=_record_settlement,
)


def _settled(state: OrderState, step: Step[Any]) -> str | None:
    if state.settled:
        return None
    return f"待平台与百胜结算后，才能审核退款申请（订单 {state.order_no} 尚未记录平台结算）"


# --- review -------------------------------------------------------------------------------


def _agree(state: OrderState, cmd: AgreeRefund, at: datetime) -> list[Notice]:
    refund = current_refund(state)
    refund.status = RefundStatus.AGREED
    refund.agreed_at = at
    log_refund(refund, at, cmd.actor, "同意退款" + (f" {cmd.note}" if cmd.note else ""))
    amount = format_fen(refund.amount_fen)
    record(state, at, cmd.actor, cmd.action, amount)
    return [buyer_notice(state, Template.REFUND_AGREED, "refund-agreed", refund_amount=amount)]


AGREE_REFUND = Step(
    action=Action.AGREE_REFUND,
    label="同意退款",
    roles=REVIEWERS,
    command=AgreeRefund,
    when=all_of(refund_in(RefundStatus.APPLIED), _settled),
    effect=_agree,
    notices=(Template.REFUND_AGREED,),
    target=Target.REFUND,
)


def _return(state: OrderState, cmd: ReturnRefund, at: datetime) -> list[Notice]:
    refund = current_refund(state)
    refund.status = RefundStatus.CHANGES_REQUESTED
    refund.return_reason = cmd.reason
    # Past the one-year deadline the buyer gets REFUND_CORRECTION_PERIOD to correct it;
    # uncorrected by then, the deadline's rules close it (domain/steps/deadline.py).
    refund.correct_by = at + state.refund_correction_period if state.deadline_passed else None
    log_refund(refund, at, cmd.actor, f"退款修改 {cmd.reason}")
    record(state, at, cmd.actor, cmd.action, cmd.reason)
    last_day = format_local_date(refund.correct_by) if refund.correct_by else ""
    notice = buyer_notice(
        state,
        Template.REFUND_RETURNED,
        f"refund-returned-v{state.version + 1}",
        reason=cmd.reason,
        refund_amount=format_fen(refund.amount_fen),
        correct_by=last_day,
    )
    return [notice]


RETURN_REFUND = Step(
    action=Action.RETURN_REFUND,
    label="退款修改",
    roles=REVIEWERS,
    command=ReturnRefund,
    when=all_of(refund_in(RefundStatus.APPLIED), _settled),
    effect=_return,
    notices=(Template.REFUND_RETURNED,),
    target=Target.REFUND,
)

# --- finance pays out -----------------------------------------------------------------------


def _amount_is_agreed(state: OrderState, cmd: Payout) -> str | None:
    refund = state.refund
    if refund is None or cmd.amount_fen == refund.amount_fen:
        return None
    return (
        f"打款金额 {format_fen(cmd.amount_fen)} 与同意退款的金额 "
        f"{format_fen(refund.amount_fen)} 不一致"
    )


def _payout(state: OrderState, cmd: Payout, at: datetime) -> list[Notice]:
    refund = current_refund(state)
    refund.status = RefundStatus.REFUNDED
    refund.paid_at = cmd.paid_at or at
    refund.bank_reference = cmd.bank_reference
    refund.paid_by = cmd.actor.username
    log_refund(refund, at, cmd.actor, "已退款")
    slot = pending_slot(state)
    if slot is not None:  # the share was refunded instead of invoiced
        slot.status = InvoiceStatus.CANCELLED
    amount = format_fen(refund.amount_fen)
    record(state, at, cmd.actor, cmd.action, f"{amount} 银行流水 {cmd.bank_reference}")
    notice = buyer_notice(
        state,
        Template.REFUND_PAID,
        "refund-paid",
        refund_amount=amount,
        bank_reference=cmd.bank_reference,
    )
    return [notice]


PAYOUT = Step(
    action=Action.PAYOUT,
    label="确认打款",
    roles=FINANCE_STAFF,
    command=Payout,
    when=refund_in(RefundStatus.AGREED),
    check_input=_amount_is_agreed,
    input_field="amount_fen",
    effect=_payout,
    notices=(Template.REFUND_PAID,),
    target=Target.REFUND,
)

STEPS = (
    DECIDE_REFUND,
    APPLY_REFUND,
    EDIT_REFUND,
    RECORD_SETTLEMENT,
    AGREE_REFUND,
    RETURN_REFUND,
    PAYOUT,
)
