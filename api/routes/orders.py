"""The buyer's orders (我的订单): place, list, read, edit, confirm receipt, decide and
file the refund."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api import command_builders as build
from api import responses, schemas
from api.deps import BuyerUser, CurrentUser, IdempotencyKey, SessionDep, SettingsDep, TemporalDep
from api.routes.command_sender import Sender
from api.routes.common import OrderParams
from api.schemas import RefundDecisionIn, RefundForm
from api.services import orders
from domain.inputs import PlaceOrderInput, SupplementaryPatch
from domain.order import Actor

router = APIRouter(prefix="/api/orders", tags=["orders"])

MultipartRefundForm = Annotated[RefundForm, Form(media_type="multipart/form-data")]


async def order_page(
    params: OrderParams, actor: Actor, session: AsyncSession
) -> schemas.OrderPageOut:
    """One page of the orders the actor sees: a buyer's own, or every buyer's for staff."""
    found = await orders.list_page(
        session=session,
        actor=actor,
        filters=params.filters(),
        tab=params.tab,
        page=params.as_page(),
    )
    return responses.order_page_out(found, actor, page=params.page, page_size=params.page_size)


@router.post("", response_model=schemas.OrderOut, status_code=201)
async def place_order(
    body: PlaceOrderInput,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    state = await orders.place(
        session=session,
        client=client,
        settings=settings,
        actor=actor,
        data=body,
        idempotency_key=idempotency_key,
    )
    return responses.order_out(state, actor)


@router.get("", response_model=schemas.OrderPageOut)
async def list_orders(
    params: Annotated[OrderParams, Query()], actor: BuyerUser, session: SessionDep
) -> schemas.OrderPageOut:
    return await order_page(params, actor, session)


@router.get("/{order_no}", response_model=schemas.OrderOut)
async def get_order(order_no: str, actor: CurrentUser, session: SessionDep) -> schemas.OrderOut:
    state = await orders.visible(session=session, actor=actor, order_no=order_no)
    return responses.order_out(state, actor)


@router.put("/{order_no}", response_model=schemas.OrderOut)
async def edit_order(
    order_no: str, body: SupplementaryPatch, actor: BuyerUser, send: Sender
) -> schemas.OrderOut:
    return await send.order_edit(order_no, actor, body)


@router.post("/{order_no}/confirm-receipt", response_model=schemas.OrderOut)
async def confirm_receipt(order_no: str, actor: BuyerUser, send: Sender) -> schemas.OrderOut:
    return await send.to_order(order_no, build.confirm_receipt(actor))


@router.post("/{order_no}/refund-decision", response_model=schemas.OrderOut)
async def decide_refund(
    order_no: str, body: RefundDecisionIn, actor: BuyerUser, send: Sender
) -> schemas.OrderOut:
    return await send.to_order(order_no, build.decide_refund(actor, body))


@router.post("/{order_no}/refund", response_model=schemas.RefundOut, status_code=201)
async def apply_refund(
    order_no: str, form: MultipartRefundForm, actor: BuyerUser, send: Sender
) -> schemas.RefundOut:
    return await send.refund_application(order_no, actor, form, correction=False)


@router.put("/{order_no}/refund", response_model=schemas.RefundOut)
async def edit_refund(
    order_no: str, form: MultipartRefundForm, actor: BuyerUser, send: Sender
) -> schemas.RefundOut:
    return await send.refund_application(order_no, actor, form, correction=True)
