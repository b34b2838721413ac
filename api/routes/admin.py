"""Back office (bmp后台), for reviewers and admins: review orders, record the platform's
settlement, review refunds, issue, ship or return invoices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import command_builders as build
from api import schemas
from api.deps import ReviewerUser, SessionDep
from api.routes.command_sender import Sender
from api.routes.common import AdminInvoiceParams, OrderParams
from api.routes.invoices import invoice_page
from api.routes.orders import order_page
from api.schemas import ApproveIn, IssueInvoiceIn, NoteIn, ReasonIn, ShipInvoiceIn
from api.services import queues

router = APIRouter(prefix="/api/admin", tags=["back office"])


@router.get("/orders", response_model=schemas.OrderPageOut)
async def list_orders(
    params: Annotated[OrderParams, Query()], actor: ReviewerUser, session: SessionDep
) -> schemas.OrderPageOut:
    return await order_page(params, actor, session)


@router.get("/queues", response_model=list[schemas.QueueOut])
async def list_queues(actor: ReviewerUser, session: SessionDep) -> list[schemas.QueueOut]:
    """The five work queues: items waiting and how many are past their time limit (超时)."""
    return await queues.queue_counts(session)


@router.post("/orders/{order_no}/approve", response_model=schemas.OrderOut)
async def approve(
    order_no: str, body: ApproveIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    return await send.to_order(order_no, build.approve(actor, body))


@router.post("/orders/{order_no}/return", response_model=schemas.OrderOut)
async def return_order(
    order_no: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    return await send.to_order(order_no, build.return_order(actor, body))


@router.post("/orders/{order_no}/void", response_model=schemas.OrderOut)
async def void_order(
    order_no: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    return await send.to_order(order_no, build.void_order(actor, body))


@router.post("/orders/{order_no}/settlement", response_model=schemas.OrderOut)
async def record_settlement(
    order_no: str, body: NoteIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    return await send.to_order(order_no, build.record_settlement(actor, body))


@router.post("/refunds/{refund_id}/agree", response_model=schemas.RefundOut)
async def agree_refund(
    refund_id: str, body: NoteIn, actor: ReviewerUser, send: Sender
) -> schemas.RefundOut:
    return await send.to_refund(refund_id, build.agree_refund(actor, body))


@router.post("/refunds/{refund_id}/return", response_model=schemas.RefundOut)
async def return_refund(
    refund_id: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.RefundOut:
    return await send.to_refund(refund_id, build.return_refund(actor, body))


@router.get("/invoices", response_model=schemas.PageOut[schemas.InvoiceOut])
async def list_invoices(
    params: Annotated[AdminInvoiceParams, Query()], actor: ReviewerUser, session: SessionDep
) -> schemas.PageOut[schemas.InvoiceOut]:
    """开票管理: every buyer's applications; by default the queue to issue or ship."""
    return await invoice_page(params, actor, session)


@router.post("/invoices/{invoice_app_no}/issue", response_model=schemas.InvoiceOut)
async def issue_invoice(
    invoice_app_no: str, body: IssueInvoiceIn, actor: ReviewerUser, send: Sender
) -> schemas.InvoiceOut:
    return await send.to_invoice(build.issue_invoice(actor, invoice_app_no, body))


@router.post("/invoices/{invoice_app_no}/ship", response_model=schemas.InvoiceOut)
async def ship_invoice(
    invoice_app_no: str, body: ShipInvoiceIn, actor: ReviewerUser, send: Sender
) -> schemas.InvoiceOut:
    return await send.to_invoice(build.ship_invoice(actor, invoice_app_no, body))


@router.post("/invoices/{invoice_app_no}/return", response_model=schemas.InvoiceOut)
async def return_invoice(
    invoice_app_no: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.InvoiceOut:
    return await send.to_invoice(build.return_invoice(actor, invoice_app_no, body))
