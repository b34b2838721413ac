"""账户信息: the caller's own account, as shown and as changed by its owner."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import not_found
from api.services import messages
from db import queries
from domain.account import AccountInput
from domain.order import Actor
from domain.statuses import Role


async def me(*, session: AsyncSession, actor: Actor) -> schemas.MeOut:
    user = await queries.user(session, username=actor.username)
    unread = (
        await messages.unread_count(session=session, buyer=actor.username)
        if actor.role is Role.BUYER
        else 0
    )
    # Without an account row (a token made for tests or tools) only the token's facts are known.
    return schemas.MeOut(
        username=actor.username,
        role=actor.role.value,
        company=user.company if user else actor.company,
        contact_name=user.contact_name if user else "",
        mobile=user.mobile if user else "",
        email=(user.email or "") if user else "",
        unread_messages=unread,
    )


async def update(*, session: AsyncSession, actor: Actor, data: AccountInput) -> schemas.MeOut:
    user = await queries.user(session, username=actor.username)
    if user is None:
        raise not_found("账户")
    for field, value in data.changes().items():
        setattr(user, field, value)
    await session.commit()
    return await me(session=session, actor=actor)
