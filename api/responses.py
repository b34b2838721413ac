"""Pure functions from domain state (and the caller) to the answers of API.md.

What a caller may do next (``allowed_actions``) is asked of ``domain.lifecycle`` — the
same rules the workflow's validators apply — so the buttons shown are the ones accepted.
A bank card leaves only masked: its number is not even in the state (see the card vault).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from api import cursors, schemas
from db import models
from db.queries import Found, OrderPage, Page
from domain import lifecycle, queues
from domain.calendar import format_local
from domain.catalog import Product
from domain.money import BASIS_POINTS
from domain.order import (
    PAYMENT_METHOD,
    Actor,
    ConsigneeSnapshot,
    InvoiceApplication,
    InvoiceProfileSnapshot,
    OrderState,
    Refund,
)
from domain.statuses import InvoiceType
from domain.steps.step import Target

# The money paid here is always nothing: it is paid on the platform (以订购平台金额为准).
PAID_HERE_FEN = 0

REFUND_ACTIONS = lifecycle.actions_on(Target.REFUND)
INVOICE_ACTIONS = lifecycle.actions_on(Target.INVOICE)

LEDGER_HEADERS = ("退款编号", "主订单号", "退款金额(元)", "银行流水号", "打款时间", "确认人")
# 退款编号, 退款金额(元) and an empty 银行流水号 are the columns the bank result upload reads
# (api.services.payout_batch): finance fills in the references and uploads the same file.
PAYOUTS_DUE_HEADERS = (
    "退款编号",
    "主订单号",
    "开户名",
    "开户行",
    "开户支行",
    "所属地区",
    "银行卡号",
    "退款金额(元)",
    "银行流水号",
)


def product_out(product: Product) -> schemas.ProductOut:
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


def address_out(address: models.Address) -> schemas.AddressOut:
    return schemas.AddressOut(
        id=address.id,
        name=address.name,
        mobile=address.mobile,
        phone=address.phone,
        postcode=address.postcode,
        address=address.address,
        is_default=address.is_default,
        created_at=address.created_at,
    )


def consignee_out(consignee: ConsigneeSnapshot | None) -> schemas.ConsigneeOut | None:
    return schemas.ConsigneeOut(**consignee.model_dump()) if consignee else None


def profile_out(profile: models.InvoiceProfile) -> schemas.ProfileOut:
    return _profile(profile.id, InvoiceType(profile.invoice_type), profile)


def snapshot_out(snapshot: InvoiceProfileSnapshot) -> schemas.ProfileOut:
    return _profile(snapshot.profile_id, snapshot.invoice_type, snapshot)


def _profile(
    profile_id: int | None,
    invoice_type: InvoiceType,
    fields: models.InvoiceProfile | InvoiceProfileSnapshot,
) -> schemas.ProfileOut:
    return schemas.ProfileOut(
        id=profile_id,
        invoice_type=invoice_type.value,
        invoice_type_label=invoice_type.label,
        title=fields.title,
        taxpayer_id=fields.taxpayer_id,
        recipient_name=fields.recipient_name,
        recipient_mobile=fields.recipient_mobile,
        recipient_address=fields.recipient_address,
    )


def invoice_out(state: OrderState, invoice: InvoiceApplication, actor: Actor) -> schemas.InvoiceOut:
    allowed = [
        action.value
        for action in INVOICE_ACTIONS
        if lifecycle.refusal(state, action, actor, invoice.invoice_app_no) is None
    ]
    return schemas.InvoiceOut(
        invoice_app_no=invoice.invoice_app_no,
        order_no=state.order_no,
        buyer=state.buyer,
        shop_name=state.shop_name,
        serial_no=state.serial_no,
        amount_fen=invoice.amount_fen,
        status=invoice.status.value,
        status_label=invoice.status.label,
        automatic=invoice.automatic,
        created_at=invoice.created_at,
        invoice_number=invoice.invoice_number,
        issued_at=invoice.issued_at,
        courier=invoice.courier,
        tracking_no=invoice.tracking_no,
        shipped_at=invoice.shipped_at,
        return_reason=invoice.return_reason,
        profile=snapshot_out(invoice.profile),
        allowed_actions=allowed,
        overdue=actor.role.is_staff and queues.is_overdue(state, invoice.invoice_app_no),
    )


def refund_out(state: OrderState, actor: Actor) -> schemas.RefundOut:
    refund = _refund_of(state)
    return schemas.RefundOut(
        refund_id=refund.refund_id,
        order_no=state.order_no,
        applicant=state.buyer_company or state.buyer,
        shop_name=state.shop_name,
        service_market_order_no=state.service_market_order_no,
        platform=state.product.platform.value,
        platform_label=state.product.platform.label,
        product_name=state.product.name,
        amount_fen=refund.amount_fen,
        status=refund.status.value,
        status_label=refund.status.label,
        refund_type=refund.refund_type.value if refund.refund_type else None,
        refund_type_label=refund.refund_type.label if refund.refund_type else None,
        account_name=refund.account_name,
        bank=refund.bank,
        branch=refund.branch,
        card_no_masked=refund.card.card_no_masked if refund.card else "",
        region=refund.region,
        has_proof=refund.proof is not None,
        return_reason=refund.return_reason,
        settled=state.settled,
        applied_at=refund.applied_at,
        agreed_at=refund.agreed_at,
        paid_at=refund.paid_at,
        bank_reference=refund.bank_reference,
        log=[
            schemas.RefundLogOut(
                seq=entry.seq,
                at=entry.at,
                operator=entry.operator,
                action=entry.action,
                amount_fen=entry.amount_fen,
                status=entry.status.value,
                status_label=entry.status.label,
            )
            for entry in refund.log
        ],
        allowed_actions=[
            a.value for a in REFUND_ACTIONS if lifecycle.refusal(state, a, actor) is None
        ],
        overdue=actor.role.is_staff and queues.is_overdue(state, refund.refund_id),
    )


def _refund_of(state: OrderState) -> Refund:
    if state.refund is None:
        raise LookupError(f"order {state.order_no} has no refund")
    return state.refund


def order_out(state: OrderState, actor: Actor) -> schemas.OrderOut:
    product = state.product
    decision = state.refund_decision
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
            platform_label=product.platform.label,
            settlement_mode=product.settlement_mode.value,
            settlement_mode_label=product.settlement_mode.label,
        ),
        modules=[schemas.ModuleOut(**m.model_dump()) for m in state.modules],
        standard_fen=state.standard_fen,
        discount_fen=state.discount_fen,
        subtotal_fen=state.subtotal_fen,
        paid_here_fen=PAID_HERE_FEN,
        platform_amount_fen=state.platform_amount_fen,
        refundable_fen=state.refundable_fen,
        invoice_share_fen=state.invoice_share_fen,
        invoice_profile=snapshot_out(state.invoice_profile),
        contract_name=state.contract_name,
        service_market_order_no=state.service_market_order_no,
        shop_name=state.shop_name,
        seller_nick=state.seller_nick,
        baison_staff=state.baison_staff,
        reminder_name=state.reminder_name,
        reminder_mobile=state.reminder_mobile,
        reminder_email=state.reminder_email,
        reminder_backup_email=state.reminder_backup_email,
        app_key=state.app_key,
        consignee=consignee_out(state.consignee),
        remark=state.remark,
        placed_at=state.placed_at,
        service_end_at=state.service_end_at,
        approved_at=state.approved_at,
        completed_at=state.completed_at,
        transaction=schemas.TransactionOut(
            serial_no=state.serial_no,
            product_code=product.code,
            payment_method=PAYMENT_METHOD,
            standard_fen=state.standard_fen,
            paid_here_fen=PAID_HERE_FEN,
            discount_fen=state.discount_fen,
            subtotal_fen=state.subtotal_fen,
        ),
        settled=state.settled,
        settled_at=state.settled_at,
        refund_decision=decision.value if decision else None,
        refund_decision_label=decision.label if decision else None,
        invoices=[invoice_out(state, invoice, actor) for invoice in state.invoices],
        refund=refund_out(state, actor) if state.refund is not None else None,
        return_reason=state.return_reason,
        void_reason=state.void_reason,
        deadline_passed=state.deadline_passed,
        allowed_actions=lifecycle.allowed_actions(state, actor),
        events=[
            schemas.EventOut(
                at=event.at,
                actor=event.actor,
                action=event.action,
                action_label=lifecycle.EVENT_LABELS.get(event.action, event.action),
                detail=event.detail,
            )
            for event in state.events
        ],
        version=state.version,
        overdue=actor.role.is_staff and any(item.overdue for item in queues.items(state)),
    )


def payout_out(row: models.Payout) -> schemas.PayoutOut:
    return schemas.PayoutOut(
        refund_id=row.refund_id,
        order_no=row.order_no,
        amount_fen=row.amount_fen,
        bank_reference=row.bank_reference,
        paid_at=row.paid_at,
        confirmed_by=row.confirmed_by,
    )


def payout_page_out(
    found: Found[models.Payout], *, page: int, page_size: int
) -> schemas.PageOut[schemas.PayoutOut]:
    return schemas.PageOut[schemas.PayoutOut](
        items=[payout_out(row) for row in found.items],
        total=found.total,
        page=page,
        page_size=page_size,
    )


def _cell(text: str) -> str:
    """Typed text that Excel would run as a formula is kept as text (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _yuan(amount_fen: int) -> str:
    yuan, fen = divmod(amount_fen, 100)
    return f"{yuan}.{fen:02d}"


def _csv(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """CSV for Excel: UTF-8 with a byte-order mark, or Excel garbles 中文."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def payouts_csv(rows: Iterable[models.Payout]) -> bytes:
    """The payout ledger."""
    return _csv(
        LEDGER_HEADERS,
        (
            [
                row.refund_id,
                row.order_no,
                _yuan(row.amount_fen),
                _cell(row.bank_reference),
                format_local(row.paid_at),
                row.confirmed_by,
            ]
            for row in rows
        ),
    )


def payouts_due_csv(due: Iterable[OrderState], card_numbers: dict[str, str]) -> bytes:
    """The agreed refunds to pay, with full card numbers (``card_numbers``: refund id → number),
    for finance's bank transfer."""
    return _csv(PAYOUTS_DUE_HEADERS, (_due_row(state, card_numbers) for state in due))


def _due_row(state: OrderState, card_numbers: dict[str, str]) -> list[str]:
    refund = _refund_of(state)
    return [
        refund.refund_id,
        state.order_no,
        _cell(refund.account_name),
        _cell(refund.bank),
        _cell(refund.branch),
        _cell(refund.region),
        # Digits only, as the bank's import reads them; a number that could not be opened
        # shows masked, so the line is visibly not payable.
        card_numbers.get(refund.refund_id) or (refund.card.card_no_masked if refund.card else ""),
        _yuan(refund.amount_fen),
        "",
    ]


def order_page_out(found: OrderPage, actor: Actor, *, page: Page) -> schemas.OrderPageOut:
    next_cursor = None
    if found.last is not None and page.number * page.size < found.total:
        next_cursor = cursors.encode(page.number + 1, found.last)
    return schemas.OrderPageOut(
        items=[order_out(state, actor) for state in found.items],
        total=found.total,
        page=page.number,
        page_size=page.size,
        tab_counts=found.tab_counts,
        next_cursor=next_cursor,
    )


def refund_page_out(
    found: Found[OrderState], actor: Actor, *, page: int, page_size: int
) -> schemas.PageOut[schemas.RefundOut]:
    return schemas.PageOut[schemas.RefundOut](
        items=[refund_out(state, actor) for state in found.items],
        total=found.total,
        page=page,
        page_size=page_size,
    )


def invoice_page_out(
    found: Found[tuple[OrderState, InvoiceApplication]], actor: Actor, *, page: int, page_size: int
) -> schemas.PageOut[schemas.InvoiceOut]:
    return schemas.PageOut[schemas.InvoiceOut](
        items=[invoice_out(state, invoice, actor) for state, invoice in found.items],
        total=found.total,
        page=page,
        page_size=page_size,
    )
