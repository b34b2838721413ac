"""Back office (bmp后台), for reviewers and admins: review orders, record the platform's
settlement, review refunds, issue, ship or return invoices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import responses, schemas
from api.deps import IdempotencyKey, ReviewerUser, SessionDep, TemporalDep
from api.routes.common import OrderParams
from api.schemas import ApproveIn, IssueInvoiceIn, NoteIn, ReasonIn, ShipInvoiceIn
from api.services import invoices, orders, refunds
from domain.commands import (
    AgreeRefund,
    Approve,
    Command,
    InvoiceCommand,
    IssueInvoice,
    RecordSettlement,
    ReturnInvoice,
    ReturnOrder,
    ReturnRefund,
    ShipInvoice,
    VoidOrder,
)

router = APIRouter(prefix="/api/admin", tags=["back office"])


@router.get("/orders", response_model=schemas.OrderPageOut)
async def list_orders(
    params: Annotated[OrderParams, Query()], actor: ReviewerUser, session: SessionDep
) -> schemas.OrderPageOut:
    found = await orders.list_page(
        session=session,
        actor=actor,
        filters=params.filters(),
        tab=params.tab,
        page=params.as_page(),
    )
    return responses.order_page_out(found, actor, page=params.page, page_size=params.page_size)


async def _on_order(
    session: SessionDep, client: TemporalDep, order_no: str, command: Command, key: str | None
) -> schemas.OrderOut:
    state = await orders.act(
        session=session, client=client, order_no=order_no, command=command, idempotency_key=key
    )
    return responses.order_out(state, command.actor)


@router.post("/orders/{order_no}/approve", response_model=schemas.OrderOut)
async def approve(
    order_no: str,
    body: ApproveIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    command = Approve(actor=actor, platform_amount_fen=body.platform_amount_fen, note=body.note)
    return await _on_order(session, client, order_no, command, idempotency_key)


@router.post("/orders/{order_no}/return", response_model=schemas.OrderOut)
async def return_order(
    order_no: str,
    body: ReasonIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    command = ReturnOrder(actor=actor, reason=body.reason)
    return await _on_order(session, client, order_no, command, idempotency_key)


@router.post("/orders/{order_no}/void", response_model=schemas.OrderOut)
async def void_order(
    order_no: str,
    body: ReasonIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    command = VoidOrder(actor=actor, reason=body.reason)
    return await _on_order(session, client, order_no, command, idempotency_key)


@router.post("/orders/{order_no}/settlement", response_model=schemas.OrderOut)
async def record_settlement(
    order_no: str,
    body: NoteIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    command = RecordSettlement(actor=actor, note=body.note)
    return await _on_order(session, client, order_no, command, idempotency_key)


async def _on_refund(
    session: SessionDep, client: TemporalDep, refund_id: str, command: Command, key: str | None
) -> schemas.RefundOut:
    state = await refunds.act(
        session=session, client=client, refund_id=refund_id, command=command, idempotency_key=key
    )
    return responses.refund_out(state, command.actor)


@router.post("/refunds/{refund_id}/agree", response_model=schemas.RefundOut)
async def agree_refund(
    refund_id: str,
    body: NoteIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RefundOut:
    command = AgreeRefund(actor=actor, note=body.note)
    return await _on_refund(session, client, refund_id, command, idempotency_key)


@router.post("/refunds/{refund_id}/return", response_model=schemas.RefundOut)
async def return_refund(
    refund_id: str,
    body: ReasonIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RefundOut:
    command = ReturnRefund(actor=actor, reason=body.reason)
    return await _on_refund(session, client, refund_id, command, idempotency_key)


async def _on_invoice(
    session: SessionDep, client: TemporalDep, command: InvoiceCommand, key: str | None
) -> schemas.InvoiceOut:
    state, invoice = await invoices.act(
        session=session, client=client, command=command, idempotency_key=key
    )
    return responses.invoice_out(state, invoice, command.actor)


@router.post("/invoices/{invoice_app_no}/issue", response_model=schemas.InvoiceOut)
async def issue_invoice(
    invoice_app_no: str,
    body: IssueInvoiceIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InvoiceOut:
    command = IssueInvoice(
        actor=actor,
        invoice_app_no=invoice_app_no,
        invoice_number=body.invoice_number,
        issued_at=body.issued_at,
    )
    return await _on_invoice(session, client, command, idempotency_key)


@router.post("/invoices/{invoice_app_no}/ship", response_model=schemas.InvoiceOut)
async def ship_invoice(
    invoice_app_no: str,
    body: ShipInvoiceIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InvoiceOut:
    command = ShipInvoice(
        actor=actor,
        invoice_app_no=invoice_app_no,
        courier=body.courier,
        tracking_no=body.tracking_no,
    )
    return await _on_invoice(session, client, command, idempotency_key)


@router.post("/invoices/{invoice_app_no}/return", response_model=schemas.InvoiceOut)
async def return_invoice(
    invoice_app_no: str,
    body: ReasonIn,
    actor: ReviewerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InvoiceOut:
    command = ReturnInvoice(actor=actor, invoice_app_no=invoice_app_no, reason=body.reason)
    return await _on_invoice(session, client, command, idempotency_key)
