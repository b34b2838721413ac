"""我的消息 over HTTP: every notice e-mailed about a buyer's order lands once in the
buyer's messages; read one, read all, the unread filter, and who may see them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import contracts
from activities.mail import UNBUILDABLE_MESSAGE_BODY, MailActivities
from db import models
from domain.notices import Notice, Template, buyer_notice
from domain.order import OrderState
from tests.support.http_api import Api, ok


async def _returned_order_no(api: Api) -> str:
    order = await api.place(await api.login("leiliang"))
    no = str(order["order_no"])
    reviewer = await api.login("bmp")
    body = {"reason": "店铺名称有误"}
    await ok(api.http.post(f"/api/admin/orders/{no}/return", json=body, headers=reviewer))
    return no


async def _messages_of(api: Api, order_no: str, *, expect: int = 1) -> list[dict[str, Any]]:
    """The buyer's messages about ``order_no``, once ``expect`` of them are there (the
    e-mail goes out after the change is answered)."""
    buyer = await api.login("leiliang")
    found: list[dict[str, Any]] = []
    for _ in range(100):
        page = await ok(api.http.get("/api/messages?page_size=100", headers=buyer))
        found = [m for m in page["items"] if m["order_no"] == order_no]
        if len(found) >= expect:
            return found
        await asyncio.sleep(0.1)
    return found


async def _order_state(sessions: async_sessionmaker[AsyncSession], order_no: str) -> OrderState:
    async with sessions() as session:
        state = await session.scalar(
            select(models.Order.state).where(models.Order.order_no == order_no)
        )
    return OrderState.model_validate(state)


async def _outbox_key(sessions: async_sessionmaker[AsyncSession], order_no: str) -> str:
    async with sessions() as session:
        key = await session.scalar(
            select(models.OutboxMessage.key).where(models.OutboxMessage.order_no == order_no)
        )
    assert key is not None
    return key


async def _delivered(sessions: async_sessionmaker[AsyncSession], order_no: str) -> None:
    """Waits until the worker's own delivery of the order's e-mail has finished: the inbox
    message is written before the SMTP send, so it alone does not say so."""
    for _ in range(100):
        async with sessions() as session:
            status = await session.scalar(
                select(models.OutboxMessage.status).where(models.OutboxMessage.order_no == order_no)
            )
        if status == "sent":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the e-mail of {order_no} was not delivered (status {status})")


async def test_returned_order_notice_lands_as_a_message_with_its_order(api: Api) -> None:
    no = await _returned_order_no(api)
    [message] = await _messages_of(api, no)
    assert message["title"] == f"【百胜云市场】订单 {no} 被打回，请修改信息后重新提交"
    assert "店铺名称有误" in message["body"]
    assert "<" not in message["body"]  # the plain text, not the HTML
    assert (message["order_no"], message["read"]) == (no, False)


async def test_send_email_retried_leaves_one_message(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    no = await _returned_order_no(api)
    await _delivered(session_maker, no)
    key = await _outbox_key(session_maker, no)
    occasion = key.split(":", 1)[1]
    notice = buyer_notice(
        await _order_state(session_maker, no),
        Template.ORDER_RETURNED,
        occasion,
        reason="店铺名称有误",
    )
    request = contracts.EmailRequest(key=key, order_no=no, notice=notice)
    retried = await ActivityEnvironment().run(
        MailActivities(session_maker, api.settings).send_email, request
    )
    assert retried.already_sent
    assert len(api.smtp.for_order(no)) == 1
    assert len(await _messages_of(api, no, expect=2)) == 1


async def test_notice_never_sendable_still_leaves_one_message(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    order = await api.place(await api.login("leiliang"))
    no = str(order["order_no"])
    # No context at all: the e-mail cannot be built, so it fails for good.
    notice = Notice(template=Template.REFUND_AGREED, to=["a@example.com"], occasion="x", context={})
    request = contracts.EmailRequest(key=f"{no}:broken", order_no=no, notice=notice)
    activities = MailActivities(session_maker, api.settings)
    for _ in range(2):
        with pytest.raises(ApplicationError):
            await ActivityEnvironment().run(activities.send_email, request)
    [message] = await _messages_of(api, no)
    assert (message["title"], message["body"]) == (
        "同意退款通知（无法生成）",
        UNBUILDABLE_MESSAGE_BODY,
    )


async def test_read_message_marks_it_read_and_leaves_the_unread_filter(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await _returned_order_no(api)
    [message] = await _messages_of(api, no)
    unread = await ok(api.http.get("/api/messages?unread=true&page_size=100", headers=buyer))
    assert message["id"] in [m["id"] for m in unread["items"]]
    assert unread["unread_count"] >= 1
    read = await ok(api.http.post(f"/api/messages/{message['id']}/read", headers=buyer))
    assert (read["id"], read["read"]) == (message["id"], True)
    after = await ok(api.http.get("/api/messages?unread=true&page_size=100", headers=buyer))
    assert message["id"] not in [m["id"] for m in after["items"]]
    assert after["unread_count"] == unread["unread_count"] - 1


async def test_read_all_messages_leaves_none_unread(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await _returned_order_no(api)
    await _messages_of(api, no)
    answer = await ok(api.http.post("/api/messages/read-all", headers=buyer))
    assert answer == {"unread_count": 0}
    page = await ok(api.http.get("/api/messages?unread=true", headers=buyer))
    assert (page["items"], page["total"], page["unread_count"]) == ([], 0, 0)
    [message] = await _messages_of(api, no)
    assert message["read"] is True
    me = await ok(api.http.get("/api/me", headers=buyer))
    assert me["unread_messages"] == 0


async def test_messages_list_newest_first_with_counts(api: Api) -> None:
    buyer = await api.login("leiliang")
    first = await _returned_order_no(api)
    await _messages_of(api, first)
    second = await _returned_order_no(api)
    await _messages_of(api, second)
    page = await ok(api.http.get("/api/messages?page_size=2", headers=buyer))
    assert [m["order_no"] for m in page["items"]] == [second, first]
    assert (page["page"], page["page_size"]) == (1, 2)
    assert page["total"] >= 2
    me = await ok(api.http.get("/api/me", headers=buyer))
    assert me["unread_messages"] == page["unread_count"] >= 2


async def test_read_another_buyers_message_is_404(api: Api) -> None:
    no = await _returned_order_no(api)
    [message] = await _messages_of(api, no)
    other = await api.login("zhangsan")
    response = await api.http.post(f"/api/messages/{message['id']}/read", headers=other)
    assert response.status_code == 404
    [still] = await _messages_of(api, no)
    assert still["read"] is False


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/messages"),
        ("POST", "/api/messages/1/read"),
        ("POST", "/api/messages/read-all"),
    ],
)
async def test_messages_for_staff_is_403(api: Api, method: str, path: str) -> None:
    response = await api.http.request(method, path, headers=await api.login("bmp"))
    assert response.status_code == 403


async def test_me_of_staff_has_no_unread_messages(api: Api) -> None:
    me = await ok(api.http.get("/api/me", headers=await api.login("bmp")))
    assert (me["role"], me["unread_messages"]) == ("reviewer", 0)


async def test_read_message_with_an_id_no_row_can_have_is_404(api: Api) -> None:
    """PostgreSQL refuses integers past its column's range: such an id is simply absent."""
    buyer = await api.login("leiliang")
    response = await api.http.post("/api/messages/2147483648/read", headers=buyer)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
