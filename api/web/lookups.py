"""The record a page is about, as its visitor may see it, or a redirect back with the refusal.

The redirect is raised (``PageRedirect``), so a page handler reads the record in one line.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Problem
from api.services import orders
from api.web.plumbing import PageRedirect, redirect
from domain.order import Actor, OrderState


async def order_or_back(session: AsyncSession, me: Actor, order_no: str, back: str) -> OrderState:
    """The order ``me`` may see, else a redirect to ``back`` that shows why not."""
    try:
        return await orders.visible(session=session, actor=me, order_no=order_no)
    except Problem as problem:
        raise PageRedirect(redirect(back, err=problem.detail)) from problem
