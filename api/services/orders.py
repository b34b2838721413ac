"""Placing orders and reading them, with ownership: another buyer's order does not exist."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import Problem, field_error, not_found
from api.services import profiles, workflow_calls
from db import queries
from domain import ids
from domain.calendar import service_end
from domain.catalog import Product
from domain.inputs import PlaceOrderInput
from domain.order import Actor, Event, OrderState, ProductSnapshot
from settings import Settings
from workflows.search_attributes import typed_for
from workflows.shop_order import ShopOrderWorkflow, StartOrder

START_ATTEMPTS = 5


def visible_state(data: dict[str, Any] | None, actor: Actor, what: str) -> OrderState:
    """The order if the actor may see it; the same 404 whether missing or another buyer's."""
    if data is None:
        raise not_found(what)
    state = OrderState.model_validate(data)
    if actor.role.value == "buyer" and state.buyer != actor.username:
        raise not_found(what)
    return state


async def get_order(session: AsyncSession, *, actor: Actor, order_no: str) -> OrderState:
    return visible_state(await queries.order_state(session, order_no), actor, f"order {order_no}")


async def place(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    *,
    actor: Actor,
    data: PlaceOrderInput,
    idempotency_key: str | None,
) -> OrderState:
    if not data.agreement_accepted:
        raise field_error("agreement_accepted", "请先阅读并同意订购协议")
    product_data = await queries.product(session, data.product_code)
    if product_data is None:
        raise field_error("product_code", f"unknown product {data.product_code}")
    product = Product.model_validate(product_data)
    try:
        modules = product.pick_modules(data.module_codes)
    except ValueError as error:
        raise field_error("module_codes", str(error)) from None
    profile = await queries.profile(session, actor.username, data.invoice_profile_id)
    if profile is None:
        raise field_error("invoice_profile_id", "no such invoice profile of yours")
    key = idempotency_key.strip()[:128] if idempotency_key else None
    if key:
        earlier = await queries.order_for_placement_key(session, actor.username, key)
        if earlier is not None:
            return OrderState.model_validate(earlier)
    taken = await queries.live_order_for_service_market_no(session, data.service_market_order_no)
    if taken is not None:
        raise Problem(409, f"service-market order {data.service_market_order_no} already backs live order {taken}", code="duplicate")
    user = await queries.user(session, actor.username)
    placed_at = datetime.now(UTC).replace(microsecond=0)
    snapshot = profiles.snapshot(profile)
    state = OrderState(
        order_no="",
        buyer=actor.username,
        buyer_company=actor.company,
        buyer_email=user.email if user else None,
        product=ProductSnapshot(
            code=product.code,
            name=product.name,
            line=product.line,
            platform=product.platform,
            settlement_mode=product.settlement_mode,
            refund_share_bp=product.refund_share_bp,
            agreement=product.agreement,
        ),
        modules=modules,
        standard_fen=sum(m.price_fen for m in modules),
        invoice_profile=snapshot,
        contract_name=data.contract_name or snapshot.title,
        service_market_order_no=data.service_market_order_no,
        shop_name=data.shop_name,
        seller_nick=data.seller_nick,
        baison_staff=data.baison_staff,
        reminder_name=data.reminder_name,
        reminder_mobile=data.reminder_mobile,
        reminder_email=data.reminder_email,
        reminder_backup_email=data.reminder_backup_email,
        placed_at=placed_at,
        service_end_at=service_end(placed_at, *settings.term),
        placement_key=key,
        events=[Event(at=placed_at, actor=f"{actor.display}({actor.username})", action="place", detail=f"店铺订购结算 {product.name}")],
    )
    return await _start(session, client, settings, state)


async def _start(session: AsyncSession, client: Client, settings: Settings, state: OrderState) -> OrderState:
    for _ in range(START_ATTEMPTS):
        state.order_no = ids.order_no(state.placed_at, secrets.randbelow(10_000))
        try:
            handle = await client.start_workflow(
                ShopOrderWorkflow.run,
                StartOrder(order=state),
                id=state.order_no,
                task_queue=settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=typed_for(state),
                static_summary=f"{state.order_no} · {state.shop_name} · {state.product.name}",
                static_details=(
                    f"**买家** {state.buyer_company}({state.buyer})\n\n"
                    f"**服务市场订单号** {state.service_market_order_no}\n\n"
                    f"**金额小计** {state.subtotal_fen / 100:.2f} 元"
                ),
            )
        except WorkflowAlreadyStartedError:
            continue  # the number was taken this second; draw another suffix
        try:
            recorded: OrderState = await handle.execute_update(ShopOrderWorkflow.recorded)
            return recorded
        except WorkflowUpdateFailedError as error:
            if state.placement_key:
                earlier = await queries.order_for_placement_key(session, state.buyer, state.placement_key)
                if earlier is not None:  # a concurrent retry of the same request won
                    return OrderState.model_validate(earlier)
            raise workflow_calls.problem_from_update_failure(error) from None
    raise Problem(503, "could not allocate an order number; retry")
