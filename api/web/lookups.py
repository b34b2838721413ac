"""The record a page is about, as its visitor may see it, or a redirect back with the refusal.

The redirect is raised (``PageRedirect``), so a page handler reads the record in one line.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Problem
from api.services import invoices, orders
from api.web.plumbing import PageMissing, PageRedirect, redirect
from domain.order import Actor, InvoiceApplication, OrderState


async def order_or_back(session: AsyncSession, me: Actor, order_no: str, back: str) -> OrderState:
    """The order ``me`` may see, else a redirect to ``back`` that shows why not."""
    try:
        return await orders.visible(session=session, actor=me, order_no=order_no)
    except Problem as problem:
        raise PageRedirect(redirect(back, err=problem.detail)) from problem


async def order_or_404(session: AsyncSession, me: Actor, order_no: str) -> OrderState:
    """The order ``me`` may see, else the 404 page (another buyer's is as absent)."""
    try:
        return await orders.visible(session=session, actor=me, order_no=order_no)
    except Problem as problem:
        if problem.status != 404:
            raise
        raise PageMissing(me, f"订单 {order_no}") from problem


async def invoice_or_404(
    session: AsyncSession, me: Actor, invoice_app_no: str
) -> tuple[OrderState, InvoiceApplication]:
    """The invoice application ``me`` may see and its order, else the 404 page."""
    try:
        return await invoices.visible(session=session, actor=me, invoice_app_no=invoice_app_no)
    except Problem as problem:
        if problem.status != 404:
            raise
        raise PageMissing(me, f"开票申请 {invoice_app_no}") from problem
