"""我的消息: a buyer's messages, read and marked read. The mail activity writes them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import not_found
from db import models
from db.queries import MAX_ROW_ID, Found, Page

_message = models.Message


def _of(buyer: str) -> ColumnElement[bool]:
    return _message.buyer == buyer


async def unread_count(*, session: AsyncSession, buyer: str) -> int:
    query = select(func.count()).where(_of(buyer), _message.read_at.is_(None))
    return int(await session.scalar(query) or 0)


async def page(
    *, session: AsyncSession, buyer: str, unread_only: bool, page: Page
) -> Found[models.Message]:
    """One page of the buyer's messages, newest first."""
    where = [_of(buyer)]
    if unread_only:
        where.append(_message.read_at.is_(None))
    total = int(await session.scalar(select(func.count()).where(*where)) or 0)
    rows = await session.scalars(
        select(_message)
        .where(*where)
        .order_by(_message.created_at.desc(), _message.id.desc())
        .offset(page.offset)
        .limit(page.size)
    )
    return Found(list(rows), total)


async def mark_read(*, session: AsyncSession, buyer: str, message_id: int) -> models.Message:
    """The message, read; 404 when it is not the buyer's (or no row could have its id)."""
    if not 0 < message_id <= MAX_ROW_ID:
        raise not_found("消息", message_id)
    message = await session.scalar(select(_message).where(_of(buyer), _message.id == message_id))
    if message is None:
        raise not_found("消息", message_id)
    if message.read_at is None:
        message.read_at = datetime.now(UTC)
        await session.commit()
    return message


async def mark_all_read(*, session: AsyncSession, buyer: str) -> None:
    await session.execute(
        update(_message)
        .where(_of(buyer), _message.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    await session.commit()
