"""The buyer's orders (我的订单): place, list, read, edit, confirm receipt, decide and
file the refund."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api import command_builders as build
from api import openapi, responses, schemas
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
    page = params.as_page()
    found = await orders.list_page(
        session=session, actor=actor, filters=params.filters(), tab=params.tab, page=page
    )
    return responses.order_page_out(found, actor, page=page)


@router.post(
    "",
    response_model=schemas.OrderOut,
    status_code=201,
    summary="Place an order · 下单",
    responses=openapi.COMMAND,
)
async def place_order(
    body: PlaceOrderInput,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.OrderOut:
    """Buyer. Starts the order's workflow and answers it once readable (201, 待审核). Accepts
    `Idempotency-Key`: a retry with the same key answers the first order."""
    state = await orders.place(
        session=session,
        client=client,
        settings=settings,
        actor=actor,
        data=body,
        idempotency_key=idempotency_key,
    )
    return responses.order_out(state, actor)


@router.get("", response_model=schemas.OrderPageOut, summary="List my orders · 我的订单")
async def list_orders(
    params: Annotated[OrderParams, Query()], actor: BuyerUser, session: SessionDep
) -> schemas.OrderPageOut:
    """Buyer. The buyer's own orders, filtered, with `tab_counts` per tab
    (全部, 进行中, 已完成, 失败, 退款中)."""
    return await order_page(params, actor, session)


@router.get("/{order_no}", response_model=schemas.OrderOut, summary="Read an order · 订单详情")
async def get_order(order_no: str, actor: CurrentUser, session: SessionDep) -> schemas.OrderOut:
    """Signed in: a buyer reads only their own orders (another's is 404), staff read every
    order. `allowed_actions` names what the caller may do now."""
    state = await orders.visible(session=session, actor=actor, order_no=order_no)
    return responses.order_out(state, actor)


@router.put(
    "/{order_no}",
    response_model=schemas.OrderOut,
    summary="Edit a returned order · 修改信息",
    responses=openapi.COMMAND,
)
async def edit_order(
    order_no: str, body: SupplementaryPatch, actor: BuyerUser, send: Sender
) -> schemas.OrderOut:
    """Buyer, only while the order is returned (已退回): fields left out keep their value; the
    order goes back to 待审核."""
    return await send.order_edit(order_no, actor, body)


@router.post(
    "/{order_no}/confirm-receipt",
    response_model=schemas.OrderOut,
    summary="Confirm receipt · 确认收货",
    responses=openapi.COMMAND,
)
async def confirm_receipt(order_no: str, actor: BuyerUser, send: Sender) -> schemas.OrderOut:
    """Buyer, once the order is approved (审核通过)."""
    return await send.to_order(order_no, build.confirm_receipt(actor))


@router.post(
    "/{order_no}/refund-decision",
    response_model=schemas.OrderOut,
    summary="Decide refund or invoice · 选择退款或开票",
    responses=openapi.COMMAND,
)
async def decide_refund(
    order_no: str, body: RefundDecisionIn, actor: BuyerUser, send: Sender
) -> schemas.OrderOut:
    """Buyer, after receipt: `refund` or `no_refund` (then the invoices are applied for)."""
    return await send.to_order(order_no, build.decide_refund(actor, body))


@router.post(
    "/{order_no}/refund",
    response_model=schemas.RefundOut,
    status_code=201,
    summary="Apply for the refund · 申请退款",
    responses=openapi.PROOF_UPLOAD,
)
async def apply_refund(
    order_no: str, form: MultipartRefundForm, actor: BuyerUser, send: Sender
) -> schemas.RefundOut:
    """Buyer, after choosing `refund`: multipart form with the bank account
    (完善退款账号相关信息) and, for `individual`, the proof file `proof` (PDF, JPEG or PNG).
    The full card number is never answered."""
    return await send.refund_application(order_no, actor, form, correction=False)


@router.put(
    "/{order_no}/refund",
    response_model=schemas.RefundOut,
    summary="Correct the refund · 修改退款信息",
    responses=openapi.PROOF_UPLOAD,
)
async def edit_refund(
    order_no: str, form: MultipartRefundForm, actor: BuyerUser, send: Sender
) -> schemas.RefundOut:
    """Buyer, only while the refund is `changes_requested` (已退回): the same form; leaving out
    `card_no` keeps the card on file."""
    return await send.refund_application(order_no, actor, form, correction=True)
