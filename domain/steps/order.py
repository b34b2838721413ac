"""The order's steps (DOMAIN.md §4, 订单状态): review, edit and resubmit, void, 确认收货."""

from __future__ import annotations

from datetime import datetime

from domain.commands import Action, Approve, ConfirmReceipt, EditOrder, ReturnOrder, VoidOrder
from domain.money import format_fen
from domain.notices import Notice, Template, buyer_notice
from domain.order import Actor, OrderState
from domain.statuses import BUYERS, REVIEWERS, InvoiceStatus, OrderStatus, SettlementMode
from domain.steps.bookkeeping import new_invoice, record
from domain.steps.step import Step, all_of, order_in
from domain.validation import SUPPLEMENTARY_LABELS

CLEARINGS = ("clear_reminder_backup_email", "clear_consignee", "clear_remark")


def _edit_consignee_and_remark(state: OrderState, cmd: EditOrder) -> list[str]:
    """收货人信息 and 备注, replaced or cleared; the labels of what really changed."""
    changed: list[str] = []
    consignee = None if cmd.clear_consignee else (cmd.consignee or state.consignee)
    if consignee != state.consignee:
        state.consignee = consignee
        changed.append("收货人信息")
    remark = None if cmd.clear_remark else (cmd.remark or state.remark)
    if remark != state.remark:
        state.remark = remark
        changed.append("备注")
    return changed


def _edit(state: OrderState, cmd: EditOrder, at: datetime) -> list[Notice]:
    given = cmd.model_dump(
        exclude={"actor", "invoice_profile", "consignee", "remark", *CLEARINGS},
        exclude_none=True,
    )
    # The 操作记录 names what really changed, by the guide's labels.
    changed = [SUPPLEMENTARY_LABELS[f] for f, v in given.items() if getattr(state, f) != v]
    for field, value in given.items():
        setattr(state, field, value)
    if cmd.clear_reminder_backup_email and state.reminder_backup_email is not None:
        state.reminder_backup_email = None
        changed.append(SUPPLEMENTARY_LABELS["reminder_backup_email"])
    if cmd.invoice_profile is not None and cmd.invoice_profile != state.invoice_profile:
        state.invoice_profile = cmd.invoice_profile
        changed.append(f"发票信息（{cmd.invoice_profile.title}）")
    changed += _edit_consignee_and_remark(state, cmd)
    state.status = OrderStatus.SUBMITTED
    state.return_reason = None
    detail = "修改信息后重新提交审核" + (f": {'、'.join(changed)}" if changed else "")
    record(state, at, cmd.actor, cmd.action, detail)
    return []


EDIT = Step(
    action=Action.EDIT,
    label="修改信息",
    roles=BUYERS,
    command=EditOrder,
    when=order_in(OrderStatus.RETURNED),
    effect=_edit,
)


def _platform_amount_within_subtotal(state: OrderState, cmd: Approve) -> str | None:
    amount = cmd.platform_amount_fen
    if amount is None or 0 < amount <= state.subtotal_fen:
        return None
    return f"平台实付金额须大于 0 且不超过金额小计 {format_fen(state.subtotal_fen)}"


def _approve(state: OrderState, cmd: Approve, at: datetime) -> list[Notice]:
    state.status = OrderStatus.APPROVED
    state.approved_at = at
    detail = "审核通过"
    if cmd.platform_amount_fen is not None:
        state.platform_amount_fen = cmd.platform_amount_fen
        detail += f", 平台实付 {format_fen(cmd.platform_amount_fen)}"
    if cmd.note:
        detail += f", 备注: {cmd.note}"
    record(state, at, cmd.actor, cmd.action, detail)
    return []


APPROVE = Step(
    action=Action.APPROVE,
    label="审核通过",
    roles=REVIEWERS,
    command=Approve,
    when=order_in(OrderStatus.SUBMITTED),
    check_input=_platform_amount_within_subtotal,
    input_field="platform_amount_fen",
    effect=_approve,
)


def _return(state: OrderState, cmd: ReturnOrder, at: datetime) -> list[Notice]:
    state.status = OrderStatus.RETURNED
    state.return_reason = cmd.reason
    record(state, at, cmd.actor, cmd.action, cmd.reason)
    occasion = f"returned-v{state.version + 1}"
    return [buyer_notice(state, Template.ORDER_RETURNED, occasion, reason=cmd.reason)]


RETURN = Step(
    action=Action.RETURN,
    label="打回",
    roles=REVIEWERS,
    command=ReturnOrder,
    when=order_in(OrderStatus.SUBMITTED),
    effect=_return,
    notices=(Template.ORDER_RETURNED,),
)


def void(state: OrderState, actor: Actor, at: datetime, reason: str) -> list[Notice]:
    """作废 by the back office, or by the deadline for an order never approved."""
    state.status = OrderStatus.VOIDED
    state.void_reason = reason
    record(state, at, actor, Action.VOID, reason)
    return [buyer_notice(state, Template.ORDER_VOIDED, "voided", reason=reason)]


VOID = Step(
    action=Action.VOID,
    label="作废",
    roles=REVIEWERS,
    command=VoidOrder,
    when=order_in(OrderStatus.SUBMITTED, OrderStatus.RETURNED, OrderStatus.APPROVED),
    effect=lambda state, cmd, at: void(state, cmd.actor, at, cmd.reason),
    notices=(Template.ORDER_VOIDED,),
)


def confirm_receipt(
    state: OrderState, actor: Actor, at: datetime, automatic: bool = False
) -> list[Notice]:
    """确认收货 completes the order and applies its invoices (by the buyer, or the deadline)."""
    state.status = OrderStatus.COMPLETED
    state.completed_at = at
    if state.mode is SettlementMode.INVOICE_ONLY:
        new_invoice(state, state.base_fen, InvoiceStatus.APPLIED, at, automatic)
    else:
        new_invoice(state, state.invoice_share_fen, InvoiceStatus.APPLIED, at, automatic)
        new_invoice(state, state.refundable_fen, InvoiceStatus.PENDING, at, automatic)
    detail = "逾期自动确认收货并生成开票申请" if automatic else "确认收货, 自动生成开票申请"
    record(state, at, actor, Action.CONFIRM_RECEIPT, detail)
    return []


def _has_receipt_step(state: OrderState, step: Step[ConfirmReceipt]) -> str | None:
    if state.mode is SettlementMode.REFUND_ONLY:
        return f"订单 {state.order_no} 是只退款商品，没有确认收货这一步"
    return None


CONFIRM_RECEIPT = Step(
    action=Action.CONFIRM_RECEIPT,
    label="确认收货",
    roles=BUYERS,
    command=ConfirmReceipt,
    when=all_of(_has_receipt_step, order_in(OrderStatus.APPROVED)),
    effect=lambda state, cmd, at: confirm_receipt(state, cmd.actor, at),
)

STEPS = (EDIT, CONFIRM_RECEIPT, APPROVE, RETURN, VOID)
