"""Shop orders: placing one, reading them, and sending commands to one.

Ownership: a buyer sees only their own orders; another buyer's answers the same 404 as
a missing one. Staff see every order.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import command_builders
from api.errors import Problem, invalid_field, invalid_fields, not_found
from api.services import addresses, commands, profiles
from db import addresses as address_queries
from db import queries
from domain import idempotency, ids
from domain.calendar import service_end
from domain.catalog import Module, Product
from domain.commands import Command
from domain.inputs import PlaceOrderInput, SupplementaryPatch
from domain.money import format_fen
from domain.order import (
    Actor,
    ConsigneeSnapshot,
    Event,
    InvoiceProfileSnapshot,
    OrderState,
    ProductSnapshot,
    QueueLimits,
)
from domain.statuses import BUYERS, Tab
from settings import Settings
from workflows.messages import whole_order
from workflows.shop_order import RECORDED_UPDATE, OrderOutcome
from workflows.starting import start_order

# Two orders placed in the same second draw from 10 000 suffixes; a clash draws again.
ORDER_NO_ATTEMPTS = 5
# The id of the update that answers a placement: fixed, so a retry of the placement gets
# the first answer back from Temporal.
RECORDED_UPDATE_ID = "recorded"


def buyer_scope(actor: Actor) -> str | None:
    """Whose data the actor may see: a buyer only their own, staff everybody's (None)."""
    return actor.username if actor.role in BUYERS else None


async def visible(*, session: AsyncSession, actor: Actor, order_no: str) -> OrderState:
    state = await queries.order(session, order_no=order_no, buyer=buyer_scope(actor))
    if state is None:
        raise not_found("订单", order_no)
    return state


async def list_page(
    *,
    session: AsyncSession,
    actor: Actor,
    filters: queries.OrderFilter,
    tab: Tab,
    page: queries.Page,
) -> queries.OrderPage:
    """A buyer's filter is narrowed to their own orders whatever it asked for."""
    scoped = dataclasses.replace(filters, buyer=buyer_scope(actor))
    return await queries.orders_page(session, filters=scoped, tab=tab, page=page)


async def act(
    *,
    session: AsyncSession,
    client: Client,
    order_no: str,
    command: Command,
    idempotency_key: str | None,
    accept_within: timedelta,
) -> OrderState:
    """Send ``command`` to the order, once its actor is known to see it."""
    state = await visible(session=session, actor=command.actor, order_no=order_no)
    return await commands.send(
        session=session,
        client=client,
        state=state,
        command=command,
        idempotency_key=idempotency_key,
        accept_within=accept_within,
    )


async def _refuse_taken_service_market_no(
    session: AsyncSession, *, actor: Actor, number: str, excluding: str | None = None
) -> None:
    taken = await queries.live_order_for_service_market_no(
        session, service_market_order_no=number, excluding=excluding
    )
    if taken is None:
        return
    order_no, owner = taken
    # Another buyer's order number is theirs to know, not the caller's.
    whose = f"（{order_no}）" if owner == actor.username else ""
    raise Problem(
        409,
        f"服务市场订单号 {number} 已有有效订单{whose}；一个服务市场订单只能订购一次",
        code=commands.DUPLICATE,
    )


def new_app_key() -> str:
    """The AppKey of the integration service the shop subscribes: 32 upper-case hex."""
    return secrets.token_hex(16).upper()


@dataclasses.dataclass(frozen=True)
class PlacementParts:
    product: Product
    modules: list[Module]
    profile: InvoiceProfileSnapshot
    consignee: ConsigneeSnapshot | None


async def _consignee(
    session: AsyncSession, *, actor: Actor, data: PlaceOrderInput, errors: list[tuple[str, str]]
) -> ConsigneeSnapshot | None:
    """收货人信息 as typed, or a snapshot of the buyer's own saved address."""
    if data.consignee is not None:
        return addresses.typed_snapshot(data.consignee)
    if data.address_id is None:
        return None
    saved = await address_queries.address(session, buyer=actor.username, address_id=data.address_id)
    if saved is None:
        errors.append(("address_id", "收货地址不存在，请重新选择"))
        return None
    return addresses.snapshot(saved)


async def _placement_parts(
    session: AsyncSession, *, actor: Actor, data: PlaceOrderInput
) -> PlacementParts:
    """The product, chosen modules, invoice profile and consignee; every bad field at once,
    or 422."""
    errors: list[tuple[str, str]] = []
    product = await queries.product(session, code=data.product_code)
    modules: list[Module] = []
    if product is None:
        errors.append(("product_code", f"no product {data.product_code} in the catalog"))
    else:
        try:
            modules = product.pick_modules(data.module_codes)
        except ValueError as error:
            errors.append(("module_codes", str(error)))
    profile = await queries.profile(
        session, owner=actor.username, profile_id=data.invoice_profile_id
    )
    if profile is None:
        errors.append(
            ("invoice_profile_id", f"发票信息 {data.invoice_profile_id} 不存在，请重新选择")
        )
    consignee = await _consignee(session, actor=actor, data=data, errors=errors)
    if not data.agreement_accepted:
        agreement = product.agreement if product else "the product's agreement"
        errors.append(("agreement_accepted", f"请阅读并同意{agreement}"))
    if errors or product is None or profile is None:
        raise invalid_fields(errors)
    return PlacementParts(product, modules, profiles.snapshot(profile), consignee)


def new_order(
    *,
    actor: Actor,
    buyer_email: str | None,
    parts: PlacementParts,
    data: PlaceOrderInput,
    placed_at: datetime,
    settings: Settings,
    placement_key: str | None,
) -> OrderState:
    """The order as placed (店铺订购结算), numbered later when its workflow starts."""
    product, modules, profile = parts.product, parts.modules, parts.profile
    standard_fen = sum(module.price_fen for module in modules)
    return OrderState(
        order_no="",
        buyer=actor.username,
        buyer_company=actor.company,
        buyer_email=buyer_email,
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
        standard_fen=standard_fen,
        discount_fen=0,
        invoice_profile=profile,
        contract_name=data.contract_name or profile.title,
        service_market_order_no=data.service_market_order_no,
        shop_name=data.shop_name,
        seller_nick=data.seller_nick,
        baison_staff=data.baison_staff,
        reminder_name=data.reminder_name,
        reminder_mobile=data.reminder_mobile,
        reminder_email=data.reminder_email,
        reminder_backup_email=data.reminder_backup_email,
        app_key=new_app_key(),
        consignee=parts.consignee,
        remark=data.remark or None,
        placed_at=placed_at,
        service_end_at=service_end(placed_at, *settings.term),
        refund_correction_period=settings.correction_period,
        queue_limits=QueueLimits(**settings.time_limits),
        placement_key=placement_key,
        events=[
            Event(
                at=placed_at,
                actor=f"{actor.company or actor.username}({actor.username})",
                action="place",
                detail=f"{product.name} {format_fen(standard_fen)}",
            )
        ],
    )


async def _placed_with_key(
    session: AsyncSession,
    client: Client,
    actor: Actor,
    key: str | None,
    fingerprint: str | None,
    settings: Settings,
) -> OrderState | None:
    """The first answer of the order this buyer placed with this Idempotency-Key, if any."""
    if not key:
        return None
    earlier = await queries.order_by_placement_key(session, buyer=actor.username, key=key)
    if earlier is None:
        return None
    return await _first_answer(client, earlier, fingerprint, settings.update_accept_timeout)


async def place(
    *,
    session: AsyncSession,
    client: Client,
    settings: Settings,
    actor: Actor,
    data: PlaceOrderInput,
    idempotency_key: str | None,
) -> OrderState:
    """Place an order; answers it once it is readable. A key seen before answers the first
    answer of its order, or 422 when it came with another request."""
    fingerprint = (
        idempotency.fingerprint(data.model_dump(mode="json"), commands.digest_key(client))
        if idempotency_key
        else None
    )
    earlier = await _placed_with_key(session, client, actor, idempotency_key, fingerprint, settings)
    if earlier is not None:
        return earlier
    parts = await _placement_parts(session, actor=actor, data=data)
    try:
        await _refuse_taken_service_market_no(
            session, actor=actor, number=data.service_market_order_no
        )
    except Problem:
        # A retry can overtake its own first attempt: that run recorded the order between
        # the key's lookup above and this one. Then the number is taken by this very key.
        earlier = await _placed_with_key(
            session, client, actor, idempotency_key, fingerprint, settings
        )
        if earlier is None:
            raise
        return earlier
    user = await queries.user(session, username=actor.username)
    state = new_order(
        actor=actor,
        buyer_email=user.email if user else None,
        parts=parts,
        data=data,
        placed_at=datetime.now(UTC).replace(microsecond=0),
        settings=settings,
        placement_key=idempotency_key,
    ).model_copy(update={"placement_fingerprint": fingerprint})
    await session.close()  # nothing more to read until the workflow has recorded the order
    for _ in range(ORDER_NO_ATTEMPTS):
        numbered = state.model_copy(
            update={"order_no": ids.order_no(state.placed_at, secrets.randbelow(10_000))}
        )
        try:
            handle = await start_order(client, settings.temporal_task_queue, numbered)
        except WorkflowAlreadyStartedError:
            continue
        return await _recorded(session, client, handle, numbered, settings.update_accept_timeout)
    raise Problem(503, "暂时无法分配订单号，请稍后重试")


async def _ask_recorded(
    handle: WorkflowHandle[Any, Any], accept_within: timedelta, *, keyed: bool
) -> OrderState:
    """The order as its run recorded it: the ``recorded`` update, sent under its fixed id so
    a repeat gets the first answer back; 503 when the run has not accepted it in time. A
    retry of a keyed placement finds its order by the key (or, not yet recorded, starts a
    run the database then refuses as the key's duplicate), so it places one order."""
    recorded: OrderState = await commands.run_update(
        handle,
        RECORDED_UPDATE,
        update_id=RECORDED_UPDATE_ID,
        result_type=OrderState,
        accept_within=accept_within,
        keyed=keyed,
    )
    return recorded


async def _recorded(
    session: AsyncSession,
    client: Client,
    handle: WorkflowHandle[Any, Any],
    state: OrderState,
    accept_within: timedelta,
) -> OrderState:
    """Wait until the new order is in the database, so the caller can read it at once."""
    try:
        return await _ask_recorded(handle, accept_within, keyed=state.placement_key is not None)
    except WorkflowUpdateFailedError as error:
        if commands.refusal_code(error) != commands.DUPLICATE:
            raise Problem(500, f"订单 {state.order_no} 未能保存，请稍后重试") from error
    except RPCError as error:
        # The run can refuse the order and end before this update reaches it.
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        outcome = await handle.result()
        if not isinstance(outcome, OrderOutcome) or outcome.rejected is None:
            raise Problem(500, f"订单 {state.order_no} 未能保存，请稍后重试") from error
    # Another request won a race: the same Idempotency-Key (answer its order), or the
    # same service-market order number (refuse this one).
    if state.placement_key:
        earlier = await queries.order_by_placement_key(
            session, buyer=state.buyer, key=state.placement_key
        )
        if earlier is not None:
            return await _first_answer(client, earlier, state.placement_fingerprint, accept_within)
    raise Problem(
        409,
        f"服务市场订单号 {state.service_market_order_no} 已有有效订单；"
        "一个服务市场订单只能订购一次",
        code=commands.DUPLICATE,
    )


async def _first_answer(
    client: Client, earlier: OrderState, fingerprint: str | None, accept_within: timedelta
) -> OrderState:
    """What placing ``earlier`` answered: its state when first recorded (the ``recorded``
    update keeps that outcome under a fixed id), or 422 when the key came with another body."""
    if earlier.placement_fingerprint not in (None, fingerprint):
        raise commands.key_reused(
            idempotency.conflict_message(
                idempotency.scope(earlier.buyer, earlier.placement_key or "")
            )
        )
    handle = client.get_workflow_handle(earlier.order_no)
    try:
        return await _ask_recorded(handle, accept_within, keyed=True)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
    # The run has ended: the first answer is in its history (or gone with it after retention).
    try:
        found = await commands.earlier_outcome(client, handle, RECORDED_UPDATE_ID)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        found = None
    # ``recorded`` answers the whole order: nothing of its record is cut.
    whole = whole_order(found, []) if found is not None else None
    return whole or earlier


async def edit(
    *,
    session: AsyncSession,
    client: Client,
    actor: Actor,
    order_no: str,
    patch: SupplementaryPatch,
    idempotency_key: str | None,
    accept_within: timedelta,
) -> OrderState:
    """修改信息 of a returned order; the fields given replace the order's."""
    state = await visible(session=session, actor=actor, order_no=order_no)
    snapshot = None
    if patch.invoice_profile_id is not None:
        profile = await queries.profile(
            session, owner=actor.username, profile_id=patch.invoice_profile_id
        )
        if profile is None:
            raise invalid_field(
                "invoice_profile_id", f"发票信息 {patch.invoice_profile_id} 不存在，请重新选择"
            )
        snapshot = profiles.snapshot(profile)
    consignee = None
    if patch.consignee is not None:
        consignee = addresses.typed_snapshot(patch.consignee)
    elif patch.address_id is not None:
        saved = await address_queries.address(
            session, buyer=actor.username, address_id=patch.address_id
        )
        if saved is None:
            raise invalid_field("address_id", "收货地址不存在，请重新选择")
        consignee = addresses.snapshot(saved)
    number = patch.service_market_order_no
    if number and number != state.service_market_order_no:
        await _refuse_taken_service_market_no(
            session, actor=actor, number=number, excluding=order_no
        )
    return await commands.send(
        session=session,
        client=client,
        state=state,
        command=command_builders.edit_order(actor, patch, snapshot, consignee),
        idempotency_key=idempotency_key,
        accept_within=accept_within,
    )
