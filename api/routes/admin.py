"""Back office (bmp后台), for reviewers and admins: review orders, record the platform's
settlement, review refunds, issue, ship or return invoices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import command_builders as build
from api import openapi, schemas
from api.deps import ReviewerUser, SessionDep
from api.routes.command_sender import Sender
from api.routes.common import AdminInvoiceParams, OrderParams
from api.routes.invoices import invoice_page
from api.routes.orders import order_page
from api.schemas import ApproveIn, IssueInvoiceIn, NoteIn, ReasonIn, ShipInvoiceIn
from api.services import queues

router = APIRouter(prefix="/api/admin", tags=["back office"])


@router.get("/orders", response_model=schemas.OrderPageOut, summary="List every order · 订单管理")
async def list_orders(
    params: Annotated[OrderParams, Query()], actor: ReviewerUser, session: SessionDep
) -> schemas.OrderPageOut:
    """Reviewer or admin. Every buyer's orders with the buyer's filters and `tab_counts`; items
    carry `overdue`."""
    return await order_page(params, actor, session)


@router.get("/queues", response_model=list[schemas.QueueOut], summary="Work queues · 待办")
async def list_queues(actor: ReviewerUser, session: SessionDep) -> list[schemas.QueueOut]:
    """Reviewer or admin. The five queues (待审核, 待审核退款, 待打款, 待开票, 待寄送):
    items waiting and how many are past their time limit (超时)."""
    return await queues.queue_counts(session)


@router.post(
    "/orders/{order_no}/approve",
    response_model=schemas.OrderOut,
    summary="Approve an order · 审核通过",
    responses=openapi.COMMAND,
)
async def approve(
    order_no: str, body: ApproveIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    """Reviewer or admin, for a submitted order (待审核); optionally the platform's paid amount
    and a note."""
    return await send.to_order(order_no, build.approve(actor, body))


@router.post(
    "/orders/{order_no}/return",
    response_model=schemas.OrderOut,
    summary="Return an order · 退回",
    responses=openapi.COMMAND,
)
async def return_order(
    order_no: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    """Reviewer or admin: back to the buyer with a `reason` (required); the buyer is e-mailed."""
    return await send.to_order(order_no, build.return_order(actor, body))


@router.post(
    "/orders/{order_no}/void",
    response_model=schemas.OrderOut,
    summary="Void an order · 作废",
    responses=openapi.COMMAND,
)
async def void_order(
    order_no: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    """Reviewer or admin, with a `reason` (required). The order's run ends."""
    return await send.to_order(order_no, build.void_order(actor, body))


@router.post(
    "/orders/{order_no}/settlement",
    response_model=schemas.OrderOut,
    summary="Record the platform's settlement · 平台已结算",
    responses=openapi.COMMAND,
)
async def record_settlement(
    order_no: str, body: NoteIn, actor: ReviewerUser, send: Sender
) -> schemas.OrderOut:
    """Reviewer or admin: the platform has settled with Baison; refunds can be agreed from then
    on."""
    return await send.to_order(order_no, build.record_settlement(actor, body))


@router.post(
    "/refunds/{refund_id}/agree",
    response_model=schemas.RefundOut,
    summary="Agree a refund · 同意退款",
    responses=openapi.COMMAND,
)
async def agree_refund(
    refund_id: str, body: NoteIn, actor: ReviewerUser, send: Sender
) -> schemas.RefundOut:
    """Reviewer or admin; 409 before the platform's settlement is recorded."""
    return await send.to_refund(refund_id, build.agree_refund(actor, body))


@router.post(
    "/refunds/{refund_id}/return",
    response_model=schemas.RefundOut,
    summary="Return a refund · 退回退款申请",
    responses=openapi.COMMAND,
)
async def return_refund(
    refund_id: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.RefundOut:
    """Reviewer or admin, with a `reason`: the refund becomes `changes_requested` for the buyer
    to correct."""
    return await send.to_refund(refund_id, build.return_refund(actor, body))


@router.get(
    "/invoices",
    response_model=schemas.PageOut[schemas.InvoiceOut],
    summary="List invoice applications · 开票管理",
)
async def list_invoices(
    params: Annotated[AdminInvoiceParams, Query()], actor: ReviewerUser, session: SessionDep
) -> schemas.PageOut[schemas.InvoiceOut]:
    """Reviewer or admin. Every buyer's applications; without `status` the queue to issue or
    ship (an issued one stays listed until shipped); `all` for every status."""
    return await invoice_page(params, actor, session)


@router.post(
    "/invoices/{invoice_app_no}/issue",
    response_model=schemas.InvoiceOut,
    summary="Issue an invoice · 开票",
    responses=openapi.COMMAND,
)
async def issue_invoice(
    invoice_app_no: str, body: IssueInvoiceIn, actor: ReviewerUser, send: Sender
) -> schemas.InvoiceOut:
    """Reviewer or admin: the invoice number (发票号) and when it was issued."""
    return await send.to_invoice(build.issue_invoice(actor, invoice_app_no, body))


@router.post(
    "/invoices/{invoice_app_no}/ship",
    response_model=schemas.InvoiceOut,
    summary="Ship an invoice · 寄送发票",
    responses=openapi.COMMAND,
)
async def ship_invoice(
    invoice_app_no: str, body: ShipInvoiceIn, actor: ReviewerUser, send: Sender
) -> schemas.InvoiceOut:
    """Reviewer or admin: courier and tracking number."""
    return await send.to_invoice(build.ship_invoice(actor, invoice_app_no, body))


@router.post(
    "/invoices/{invoice_app_no}/return",
    response_model=schemas.InvoiceOut,
    summary="Return an invoice application · 退回开票申请",
    responses=openapi.COMMAND,
)
async def return_invoice(
    invoice_app_no: str, body: ReasonIn, actor: ReviewerUser, send: Sender
) -> schemas.InvoiceOut:
    """Reviewer or admin, with a `reason`: the buyer corrects it (发票修改)."""
    return await send.to_invoice(build.return_invoice(actor, invoice_app_no, body))
