"""From domain state to response shapes: what a caller sees of an order, for that caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api import schemas
from domain import lifecycle
from domain.calendar import shanghai
from domain.catalog import Platform, Product
from domain.commands import INVOICE_ACTIONS, Action
from domain.money import BASIS_POINTS
from domain.order import PAYMENT_METHOD, Actor, InvoiceApplication, InvoiceProfileSnapshot, OrderState
from domain.statuses import InvoiceType
from domain.validation import mask_card

REFUND_ACTIONS = (Action.EDIT_REFUND, Action.AGREE_REFUND, Action.RETURN_REFUND, Action.PAYOUT)


def local(moment: datetime | None) -> datetime | None:
    """Times leave the system with the Asia/Shanghai offset (+08:00)."""
    return shanghai(moment) if moment is not None else None


def product_out(data: dict[str, Any]) -> schemas.ProductOut:
    product = Product.model_validate(data)
    return schemas.ProductOut(
        code=product.code,
        line=product.line,
        platform=product.platform.value,
        platform_label=product.platform.label,
        name=product.name,
        settlement_mode=product.settlement_mode.value,
        settlement_mode_label=product.settlement_mode.label,
        refund_share=product.refund_share_bp / BASIS_POINTS,
        modules=[schemas.ModuleOut(**m.model_dump()) for m in product.modules],
        min_price_fen=product.min_price_fen,
        agreement=product.agreement,
        notice=product.notice,
    )


def profile_out(profile: InvoiceProfileSnapshot | Any, profile_id: int | None = None) -> schemas.ProfileOut:
    invoice_type = InvoiceType(profile.invoice_type)
    return schemas.ProfileOut(
        id=profile_id if profile_id is not None else getattr(profile, "profile_id", None),
        invoice_type=invoice_type.value,
        invoice_type_label=invoice_type.label,
        title=profile.title,
        taxpayer_id=profile.taxpayer_id,
        recipient_name=profile.recipient_name,
        recipient_mobile=profile.recipient_mobile,
        recipient_address=profile.recipient_address,
    )


def invoice_out(state: OrderState, invoice: InvoiceApplication, actor: Actor) -> schemas.InvoiceOut:
    allowed = [
        a.value
        for a in Action
        if a in INVOICE_ACTIONS and lifecycle.refusal(state, a, actor, invoice.invoice_app_no) is None
    ]
    return schemas.InvoiceOut(
        invoice_app_no=invoice.invoice_app_no,
        order_no=state.order_no,
        amount_fen=invoice.amount_fen,
        status=invoice.status.value,
        status_label=invoice.status.label,
        automatic=invoice.automatic,
        created_at=shanghai(invoice.created_at),
        invoice_number=invoice.invoice_number,
        issued_at=local(invoice.issued_at),
        courier=invoice.courier,
        tracking_no=invoice.tracking_no,
        shipped_at=local(invoice.shipped_at),
        return_reason=invoice.return_reason,
        profile=profile_out(invoice.profile),
        allowed_actions=allowed,
    )


def refund_out(state: OrderState, actor: Actor) -> schemas.RefundOut | None:
    refund = state.refund
    if refund is None:
        return None
    return schemas.RefundOut(
        refund_id=refund.refund_id,
        order_no=state.order_no,
        applicant=state.buyer_company,
        shop_name=state.shop_name,
        service_market_order_no=state.service_market_order_no,
        platform=state.product.platform.value,
        product_name=state.product.name,
        amount_fen=refund.amount_fen,
        status=refund.status.value,
        status_label=refund.status.label,
        refund_type=refund.refund_type.value if refund.refund_type else None,
        refund_type_label=refund.refund_type.label if refund.refund_type else None,
        account_name=refund.account_name,
        bank=refund.bank,
        branch=refund.branch,
        card_no_masked=mask_card(refund.card_no) if refund.card_no else "",
        region=refund.region,
        has_proof=refund.proof is not None,
        return_reason=refund.return_reason,
        settled=state.settled,
        applied_at=local(refund.applied_at),
        agreed_at=local(refund.agreed_at),
        paid_at=local(refund.paid_at),
        bank_reference=refund.bank_reference,
        log=[
            schemas.RefundLogOut(
                seq=e.seq,
                at=shanghai(e.at),
                operator=e.operator,
                action=e.action,
                amount_fen=e.amount_fen,
                status=e.status.value,
                status_label=e.status.label,
            )
            for e in refund.log
        ],
        allowed_actions=[a.value for a in REFUND_ACTIONS if lifecycle.refusal(state, a, actor) is None],
    )


def order_out(state: OrderState, actor: Actor) -> schemas.OrderOut:
    product = state.product
    return schemas.OrderOut(
        order_no=state.order_no,
        status=state.status.value,
        status_label=state.status.label,
        buyer=state.buyer,
        buyer_company=state.buyer_company,
        product=schemas.ProductRef(
            code=product.code,
            name=product.name,
            line=product.line,
            platform=product.platform.value,
            platform_label=Platform(product.platform).label,
            settlement_mode=product.settlement_mode.value,
            settlement_mode_label=product.settlement_mode.label,
        ),
        modules=[schemas.ModuleOut(**m.model_dump()) for m in state.modules],
        standard_fen=state.standard_fen,
        discount_fen=state.discount_fen,
        subtotal_fen=state.subtotal_fen,
        paid_here_fen=0,
        platform_amount_fen=state.platform_amount_fen,
        refundable_fen=state.refundable_fen,
        invoice_share_fen=state.invoice_share_fen,
        invoice_profile=profile_out(state.invoice_profile),
        contract_name=state.contract_name,
        service_market_order_no=state.service_market_order_no,
        shop_name=state.shop_name,
        seller_nick=state.seller_nick,
        baison_staff=state.baison_staff,
        reminder_name=state.reminder_name,
        reminder_mobile=state.reminder_mobile,
        reminder_email=state.reminder_email,
        reminder_backup_email=state.reminder_backup_email,
        placed_at=shanghai(state.placed_at),
        service_end_at=shanghai(state.service_end_at),
        transaction=schemas.TransactionOut(
            serial_no=state.serial_no,
            product_code=product.code,
            payment_method=PAYMENT_METHOD,
            standard_fen=state.standard_fen,
            paid_here_fen=0,
            discount_fen=state.discount_fen,
            subtotal_fen=state.subtotal_fen,
        ),
        settled=state.settled,
        refund_decision=state.refund_decision.value if state.refund_decision else None,
        refund_decision_label=state.refund_decision.label if state.refund_decision else None,
        invoices=[invoice_out(state, i, actor) for i in state.invoices],
        refund=refund_out(state, actor),
        return_reason=state.return_reason,
        void_reason=state.void_reason,
        deadline_passed=state.deadline_passed,
        allowed_actions=lifecycle.allowed_actions(state, actor),
        events=[
            schemas.EventOut(at=shanghai(e.at), actor=e.actor, action=e.action, detail=e.detail)
            for e in state.events
        ],
        version=state.version,
    )
