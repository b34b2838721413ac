"""Back office (bmp后台): review orders, record settlement, review refunds, handle invoices."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import schemas
from api.deps import ReviewerUser, SessionDep, TemporalDep
from api.routes.common import IdempotencyKey, PageNo, PageSize, Tab, order_filter
from api.routes.orders import order_page, visible_invoice, visible_refund_state
from api.services import orders, workflow_calls
from api.views import invoice_out, order_out, refund_out
from db.queries import Page
from domain.commands import (
    AgreeRefund,
    Approve,
    Command,
    IssueInvoice,
    RecordSettlement,
    ReturnInvoice,
    ReturnOrder,
    ReturnRefund,
    ShipInvoice,
    VoidOrder,
)
from domain.order import Actor

router = APIRouter(prefix="/api/admin", tags=["back office"])

Reason = Field(min_length=1, max_length=500)


class ApproveIn(BaseModel):
    platform_amount_fen: int | None = Field(default=None, gt=0)
    note: str | None = Field(default=None, max_length=500)


class ReasonIn(BaseModel):
    reason: str = Reason


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=500)


class IssueIn(BaseModel):
    invoice_number: str = Field(min_length=1, max_length=64)
    issued_at: datetime | None = None


class ShipIn(BaseModel):
    courier: str = Field(min_length=1, max_length=50)
    tracking_no: str = Field(min_length=1, max_length=64)


@router.get("/orders", response_model=schemas.OrderPageOut)
async def list_orders(
    actor: ReviewerUser,
    session: SessionDep,
    order_no: str | None = None,
    service_market_order_no: str | None = None,
    platform: str | None = None,
    shop_name: str | None = None,
    invoice_no: str | None = None,
    invoice_status: str | None = None,
    tab: Tab = Tab.ALL,
    placed_from: str | None = None,
    placed_to: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> schemas.OrderPageOut:
    f = order_filter(None, order_no, service_market_order_no, platform, shop_name, invoice_no, invoice_status, placed_from, placed_to)
    return await order_page(session, actor, f, tab, Page(page, page_size))


async def _order_command(session: SessionDep, client: TemporalDep, actor: Actor, order_no: str, command: Command, key: str | None) -> schemas.OrderOut:
    await orders.get_order(session, actor=actor, order_no=order_no)
    return order_out(await workflow_calls.send(client, order_no, command, idempotency_key=key), actor)


@router.post("/orders/{order_no}/approve", response_model=schemas.OrderOut)
async def approve(order_no: str, body: ApproveIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.OrderOut:
    command = Approve(actor=actor, platform_amount_fen=body.platform_amount_fen, note=body.note)
    return await _order_command(session, client, actor, order_no, command, idempotency_key)


@router.post("/orders/{order_no}/return", response_model=schemas.OrderOut)
async def return_order(order_no: str, body: ReasonIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.OrderOut:
    return await _order_command(session, client, actor, order_no, ReturnOrder(actor=actor, reason=body.reason), idempotency_key)


@router.post("/orders/{order_no}/void", response_model=schemas.OrderOut)
async def void(order_no: str, body: ReasonIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.OrderOut:
    return await _order_command(session, client, actor, order_no, VoidOrder(actor=actor, reason=body.reason), idempotency_key)


@router.post("/orders/{order_no}/settlement", response_model=schemas.OrderOut)
async def settlement(order_no: str, body: NoteIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.OrderOut:
    return await _order_command(session, client, actor, order_no, RecordSettlement(actor=actor, note=body.note), idempotency_key)


async def _refund_command(session: SessionDep, client: TemporalDep, actor: Actor, refund_id: str, command: Command, key: str | None) -> schemas.RefundOut:
    state = await visible_refund_state(session, actor, refund_id)
    refund = refund_out(await workflow_calls.send(client, state.order_no, command, idempotency_key=key), actor)
    assert refund is not None
    return refund


@router.post("/refunds/{refund_id}/agree", response_model=schemas.RefundOut)
async def agree_refund(refund_id: str, body: NoteIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.RefundOut:
    return await _refund_command(session, client, actor, refund_id, AgreeRefund(actor=actor, note=body.note), idempotency_key)


@router.post("/refunds/{refund_id}/return", response_model=schemas.RefundOut)
async def return_refund(refund_id: str, body: ReasonIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.RefundOut:
    return await _refund_command(session, client, actor, refund_id, ReturnRefund(actor=actor, reason=body.reason), idempotency_key)


async def _invoice_command(session: SessionDep, client: TemporalDep, actor: Actor, invoice_app_no: str, command: Command, key: str | None) -> schemas.InvoiceOut:
    state = await visible_invoice(session, actor, invoice_app_no)
    state = await workflow_calls.send(client, state.order_no, command, idempotency_key=key)
    invoice = state.invoice(invoice_app_no)
    assert invoice is not None
    return invoice_out(state, invoice, actor)


@router.post("/invoices/{invoice_app_no}/issue", response_model=schemas.InvoiceOut)
async def issue_invoice(invoice_app_no: str, body: IssueIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.InvoiceOut:
    command = IssueInvoice(actor=actor, invoice_app_no=invoice_app_no, invoice_number=body.invoice_number, issued_at=body.issued_at)
    return await _invoice_command(session, client, actor, invoice_app_no, command, idempotency_key)


@router.post("/invoices/{invoice_app_no}/ship", response_model=schemas.InvoiceOut)
async def ship_invoice(invoice_app_no: str, body: ShipIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.InvoiceOut:
    command = ShipInvoice(actor=actor, invoice_app_no=invoice_app_no, courier=body.courier, tracking_no=body.tracking_no)
    return await _invoice_command(session, client, actor, invoice_app_no, command, idempotency_key)


@router.post("/invoices/{invoice_app_no}/return", response_model=schemas.InvoiceOut)
async def return_invoice(invoice_app_no: str, body: ReasonIn, actor: ReviewerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None) -> schemas.InvoiceOut:
    command = ReturnInvoice(actor=actor, invoice_app_no=invoice_app_no, reason=body.reason)
    return await _invoice_command(session, client, actor, invoice_app_no, command, idempotency_key)
