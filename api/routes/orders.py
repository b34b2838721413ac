"""The buyer's orders (我的订单), refunds (退款管理) and invoice applications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ValidationError

from api import schemas
from api.deps import BuyerUser, CurrentUser, SessionDep, SettingsDep, TemporalDep
from api.errors import Problem, invalid, not_found
from api.routes.common import IdempotencyKey, PageNo, PageSize, Tab, order_filter, time_bound
from api.services import orders, profiles, workflow_calls
from api.services.proofs import proof_path, store_proof
from api.views import invoice_out, order_out, refund_out
from db import queries
from db.queries import Page, RefundFilter
from domain.commands import ApplyRefund, ConfirmReceipt, DecideRefund, EditInvoice, EditOrder, EditRefund
from domain.inputs import InvoiceProfilePatch, PlaceOrderInput, RefundAccountInput, SupplementaryPatch
from domain.order import Actor, OrderState
from domain.statuses import RefundDecision

router = APIRouter(prefix="/api", tags=["buyer"])


class RefundDecisionIn(BaseModel):
    decision: RefundDecision


@router.post("/orders", response_model=schemas.OrderOut, status_code=201)
async def place_order(
    body: PlaceOrderInput,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    state = await orders.place(
        session, client, settings, actor=actor, data=body, idempotency_key=idempotency_key
    )
    return order_out(state, actor)


@router.get("/orders", response_model=schemas.OrderPageOut)
async def list_orders(
    actor: BuyerUser,
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
    return await order_page(
        session,
        actor,
        order_filter(actor.username, order_no, service_market_order_no, platform, shop_name, invoice_no, invoice_status, placed_from, placed_to),
        tab,
        Page(page, page_size),
    )


async def order_page(session: SessionDep, actor: Actor, f: queries.OrderFilter, tab: Tab, page: Page) -> schemas.OrderPageOut:
    states, total, counts = await queries.orders_page(session, f, tab, page)
    return schemas.OrderPageOut(
        items=[order_out(OrderState.model_validate(s), actor) for s in states],
        total=total,
        page=page.page,
        page_size=page.page_size,
        tab_counts=counts,
    )


@router.get("/orders/{order_no}", response_model=schemas.OrderOut)
async def get_order(order_no: str, actor: CurrentUser, session: SessionDep) -> schemas.OrderOut:
    return order_out(await orders.get_order(session, actor=actor, order_no=order_no), actor)


@router.put("/orders/{order_no}", response_model=schemas.OrderOut)
async def edit_order(
    order_no: str,
    body: SupplementaryPatch,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    await orders.get_order(session, actor=actor, order_no=order_no)
    changes = body.model_dump(exclude_unset=True, exclude={"invoice_profile_id"})
    snapshot = None
    if body.invoice_profile_id is not None:
        profile = await queries.profile(session, actor.username, body.invoice_profile_id)
        if profile is None:
            raise Problem(422, "invoice_profile_id: no such invoice profile of yours", errors=[{"field": "invoice_profile_id", "message": "no such invoice profile of yours"}])
        snapshot = profiles.snapshot(profile)
    if body.service_market_order_no:
        taken = await queries.live_order_for_service_market_no(session, body.service_market_order_no, excluding=order_no)
        if taken is not None:
            raise Problem(409, f"service-market order {body.service_market_order_no} already backs live order {taken}", code="duplicate")
    command = EditOrder(actor=actor, invoice_profile=snapshot, **changes)
    state = await workflow_calls.send(client, order_no, command, idempotency_key=idempotency_key)
    return order_out(state, actor)


@router.post("/orders/{order_no}/confirm-receipt", response_model=schemas.OrderOut)
async def confirm_receipt(
    order_no: str, actor: BuyerUser, session: SessionDep, client: TemporalDep, idempotency_key: IdempotencyKey = None
) -> schemas.OrderOut:
    await orders.get_order(session, actor=actor, order_no=order_no)
    state = await workflow_calls.send(client, order_no, ConfirmReceipt(actor=actor), idempotency_key=idempotency_key)
    return order_out(state, actor)


@router.post("/orders/{order_no}/refund-decision", response_model=schemas.OrderOut)
async def decide_refund(
    order_no: str,
    body: RefundDecisionIn,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    await orders.get_order(session, actor=actor, order_no=order_no)
    command = DecideRefund(actor=actor, decision=body.decision)
    state = await workflow_calls.send(client, order_no, command, idempotency_key=idempotency_key)
    return order_out(state, actor)


async def _refund_command(
    command_type: type[ApplyRefund],
    *,
    actor: Actor,
    settings: SettingsDep,
    fields: dict[str, str],
    proof: UploadFile | None,
) -> ApplyRefund:
    try:
        account = RefundAccountInput.model_validate(fields)
    except ValidationError as error:
        raise invalid(error) from None
    stored = None
    if proof is not None and (proof.filename or proof.size):
        stored = await store_proof(proof, settings.proof_dir, settings.proof_max_bytes)
    return command_type(actor=actor, account=account, proof=stored)


RefundField = Annotated[str, Form()]


@router.post("/orders/{order_no}/refund", response_model=schemas.RefundOut, status_code=201)
async def apply_refund(
    order_no: str,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    refund_type: RefundField,
    account_name: RefundField,
    bank: RefundField,
    branch: RefundField,
    card_no: RefundField,
    region: RefundField,
    proof: Annotated[UploadFile | None, File()] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RefundOut:
    await orders.get_order(session, actor=actor, order_no=order_no)
    fields = dict(refund_type=refund_type, account_name=account_name, bank=bank, branch=branch, card_no=card_no, region=region)
    command = await _refund_command(ApplyRefund, actor=actor, settings=settings, fields=fields, proof=proof)
    state = await workflow_calls.send(client, order_no, command, idempotency_key=idempotency_key)
    refund = refund_out(state, actor)
    assert refund is not None
    return refund


@router.put("/orders/{order_no}/refund", response_model=schemas.RefundOut)
async def edit_refund(
    order_no: str,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    refund_type: RefundField,
    account_name: RefundField,
    bank: RefundField,
    branch: RefundField,
    card_no: RefundField,
    region: RefundField,
    proof: Annotated[UploadFile | None, File()] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RefundOut:
    await orders.get_order(session, actor=actor, order_no=order_no)
    fields = dict(refund_type=refund_type, account_name=account_name, bank=bank, branch=branch, card_no=card_no, region=region)
    command = await _refund_command(EditRefund, actor=actor, settings=settings, fields=fields, proof=proof)
    state = await workflow_calls.send(client, order_no, command, idempotency_key=idempotency_key)
    refund = refund_out(state, actor)
    assert refund is not None
    return refund


@router.get("/refunds", response_model=schemas.PageOut[schemas.RefundOut])
async def list_refunds(
    actor: CurrentUser,
    session: SessionDep,
    order_no: str | None = None,
    service_market_order_no: str | None = None,
    shop_name: str | None = None,
    platform: str | None = None,
    status: str | None = None,
    applied_from: str | None = None,
    applied_to: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> schemas.PageOut[schemas.RefundOut]:
    f = RefundFilter(
        buyer=actor.username if actor.role.value == "buyer" else None,
        order_no=order_no,
        service_market_order_no=service_market_order_no,
        shop_name=shop_name,
        platform=platform,
        status=status,
        applied_from=time_bound("applied_from", applied_from, end_of_day=False),
        applied_to=time_bound("applied_to", applied_to, end_of_day=True),
    )
    return await refund_page(session, actor, f, Page(page, page_size))


async def refund_page(session: SessionDep, actor: Actor, f: RefundFilter, page: Page) -> schemas.PageOut[schemas.RefundOut]:
    states, total = await queries.refunds_page(session, f, page)
    items = [refund_out(OrderState.model_validate(s), actor) for s in states]
    return schemas.PageOut[schemas.RefundOut](
        items=[i for i in items if i is not None], total=total, page=page.page, page_size=page.page_size
    )


async def visible_refund_state(session: SessionDep, actor: Actor, refund_id: str) -> OrderState:
    state = orders.visible_state(await queries.refund_order_state(session, refund_id), actor, f"refund {refund_id}")
    if state.refund is None:
        raise not_found(f"refund {refund_id}")
    return state


@router.get("/refunds/{refund_id}", response_model=schemas.RefundOut)
async def get_refund(refund_id: str, actor: CurrentUser, session: SessionDep) -> schemas.RefundOut:
    refund = refund_out(await visible_refund_state(session, actor, refund_id), actor)
    assert refund is not None
    return refund


@router.get("/refunds/{refund_id}/proof", response_class=FileResponse)
async def get_refund_proof(refund_id: str, actor: CurrentUser, session: SessionDep, settings: SettingsDep) -> FileResponse:
    state = await visible_refund_state(session, actor, refund_id)
    proof = state.refund.proof if state.refund else None
    if proof is None:
        raise not_found(f"proof of refund {refund_id}")
    return FileResponse(proof_path(settings.proof_dir, proof), media_type=proof.content_type, filename=proof.filename)


@router.get("/invoices", response_model=schemas.PageOut[schemas.InvoiceOut])
async def list_invoices(
    actor: CurrentUser,
    session: SessionDep,
    order_no: str | None = None,
    status: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> schemas.PageOut[schemas.InvoiceOut]:
    buyer = actor.username if actor.role.value == "buyer" else None
    rows, total = await queries.invoices_page(session, buyer=buyer, order_no=order_no, status=status, page=Page(page, page_size))
    items = []
    for invoice_app_no, data in rows:
        state = OrderState.model_validate(data)
        invoice = state.invoice(invoice_app_no)
        if invoice is not None:
            items.append(invoice_out(state, invoice, actor))
    return schemas.PageOut[schemas.InvoiceOut](items=items, total=total, page=page, page_size=page_size)


async def visible_invoice(session: SessionDep, actor: Actor, invoice_app_no: str) -> OrderState:
    what = f"invoice application {invoice_app_no}"
    state = orders.visible_state(await queries.invoice_order_state(session, invoice_app_no), actor, what)
    if state.invoice(invoice_app_no) is None:
        raise not_found(what)
    return state


@router.get("/invoices/{invoice_app_no}", response_model=schemas.InvoiceOut)
async def get_invoice(invoice_app_no: str, actor: CurrentUser, session: SessionDep) -> schemas.InvoiceOut:
    state = await visible_invoice(session, actor, invoice_app_no)
    invoice = state.invoice(invoice_app_no)
    assert invoice is not None
    return invoice_out(state, invoice, actor)


@router.put("/invoices/{invoice_app_no}", response_model=schemas.InvoiceOut)
async def edit_invoice(
    invoice_app_no: str,
    body: InvoiceProfilePatch,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InvoiceOut:
    state = await visible_invoice(session, actor, invoice_app_no)
    command = EditInvoice(actor=actor, invoice_app_no=invoice_app_no, patch=body)
    state = await workflow_calls.send(client, state.order_no, command, idempotency_key=idempotency_key)
    invoice = state.invoice(invoice_app_no)
    assert invoice is not None
    return invoice_out(state, invoice, actor)
