"""A page's command sent to its order or refund, answered by a redirect with the outcome.

Pages send no Idempotency-Key: each form post is one request, and the redirect after it
means a reload repeats nothing.
"""

from __future__ import annotations

from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import Problem
from api.services import orders, refunds
from api.web.plumbing import redirect
from domain.commands import Command
from settings import Settings


async def to_order(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    order_no: str,
    command: Command,
    ok: str,
    back: str | None = None,
) -> RedirectResponse:
    """Back to ``back`` (the buyer's expanded order by default) with ``ok`` or the refusal."""
    target = back or f"/my/orders?expand={order_no}#row-{order_no}"
    try:
        await orders.act(
            session=session,
            client=client,
            order_no=order_no,
            command=command,
            idempotency_key=None,
            accept_within=settings.update_accept_timeout,
        )
    except Problem as problem:
        return redirect(target, err=problem.detail)
    return redirect(target, ok=ok)


async def to_refund(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    refund_id: str,
    command: Command,
    ok: str,
    back: str,
) -> RedirectResponse:
    try:
        await refunds.act(
            session=session,
            client=client,
            refund_id=refund_id,
            command=command,
            idempotency_key=None,
            accept_within=settings.update_accept_timeout,
        )
    except Problem as problem:
        return redirect(back, err=problem.detail)
    return redirect(back, ok=ok)
