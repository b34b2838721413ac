"""我的消息: the buyer's messages, one per notice e-mailed about their orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import schemas
from api.deps import BuyerUser, SessionDep
from api.routes.common import PageParams
from api.services import messages
from db import models

router = APIRouter(prefix="/api/messages", tags=["messages"])


class MessageParams(PageParams):
    unread: bool = False


def message_out(message: models.Message) -> schemas.MessageOut:
    return schemas.MessageOut(
        id=message.id,
        at=message.created_at,
        title=message.title,
        body=message.body,
        order_no=message.order_no,
        read=message.read_at is not None,
    )


@router.get("", response_model=schemas.MessagePageOut, summary="List my messages · 我的消息")
async def list_messages(
    params: Annotated[MessageParams, Query()], actor: BuyerUser, session: SessionDep
) -> schemas.MessagePageOut:
    """Buyer. One message per notice e-mailed about the buyer's orders, newest first, with
    `unread_count`."""
    found = await messages.page(
        session=session, buyer=actor.username, unread_only=params.unread, page=params.as_page()
    )
    return schemas.MessagePageOut(
        items=[message_out(m) for m in found.items],
        total=found.total,
        page=params.page,
        page_size=params.page_size,
        unread_count=await messages.unread_count(session=session, buyer=actor.username),
    )


@router.post(
    "/read-all", response_model=schemas.UnreadCountOut, summary="Mark all messages read · 全部已读"
)
async def read_all(actor: BuyerUser, session: SessionDep) -> schemas.UnreadCountOut:
    """Buyer. Every message read; answers the new unread count, 0."""
    await messages.mark_all_read(session=session, buyer=actor.username)
    return schemas.UnreadCountOut(unread_count=0)


@router.post(
    "/{message_id}/read",
    response_model=schemas.MessageOut,
    summary="Mark one message read · 标为已读",
)
async def read_one(message_id: int, actor: BuyerUser, session: SessionDep) -> schemas.MessageOut:
    """Buyer. Answers the message; another buyer's message is 404."""
    message = await messages.mark_read(session=session, buyer=actor.username, message_id=message_id)
    return message_out(message)
