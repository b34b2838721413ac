"""Invoice applications (开票): reading them and commands aimed at one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import not_found
from api.services import commands, orders
from db import queries
from domain.commands import InvoiceCommand
from domain.order import Actor, InvoiceApplication, OrderState
from domain.statuses import InvoiceStatus


async def visible(
    *, session: AsyncSession, actor: Actor, invoice_app_no: str
) -> tuple[OrderState, InvoiceApplication]:
    """The invoice application and its order, when the actor may see them; 404 otherwise."""
    state = await queries.order_of_invoice(
        session, invoice_app_no=invoice_app_no, buyer=orders.buyer_scope(actor)
    )
    invoice = state.invoice(invoice_app_no) if state is not None else None
    if state is None or invoice is None:
        raise not_found("开票申请", invoice_app_no)
    return state, invoice


async def list_page(
    *,
    session: AsyncSession,
    actor: Actor,
    order_no: str | None,
    statuses: Collection[InvoiceStatus] | None,
    page: queries.Page,
) -> queries.Found[tuple[OrderState, InvoiceApplication]]:
    """One page of the applications the actor sees in any of ``statuses`` (None: every
    status)."""
    found = await queries.invoices_page(
        session,
        buyer=orders.buyer_scope(actor),
        order_no=order_no,
        statuses=None if statuses is None else {s.value for s in statuses},
        page=page,
    )
    pairs = [(state, state.invoice(no)) for no, state in found.items]
    return queries.Found([(s, i) for s, i in pairs if i is not None], found.total)


async def act(
    *,
    session: AsyncSession,
    client: Client,
    command: InvoiceCommand,
    idempotency_key: str | None,
    accept_within: timedelta,
) -> tuple[OrderState, InvoiceApplication]:
    """Send an invoice command; answers the order and the application after it."""
    state, _ = await visible(
        session=session, actor=command.actor, invoice_app_no=command.invoice_app_no
    )
    state = await commands.send(
        session=session,
        client=client,
        state=state,
        command=command,
        idempotency_key=idempotency_key,
        accept_within=accept_within,
    )
    invoice = state.invoice(command.invoice_app_no)
    if invoice is None:  # an application is never removed from its order
        raise not_found("开票申请", command.invoice_app_no)
    return state, invoice
