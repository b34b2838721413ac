"""我的消息 and 账户信息 pages, driven as a browser would (forms and redirects)."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.support.http_api import Api, form_token, ok, refused_back_to, signed_in_pages


async def _returned_order_message(api: Api) -> tuple[str, int]:
    """A JD order of leiliang's returned by the reviewer; its number and its message's id."""
    order = await api.place(await api.login("leiliang"))
    no = str(order["order_no"])
    body = {"reason": "店铺名称有误"}
    await ok(
        api.http.post(f"/api/admin/orders/{no}/return", json=body, headers=await api.login("bmp"))
    )
    buyer = await api.login("leiliang")
    for _ in range(100):
        page = await ok(api.http.get("/api/messages?page_size=100", headers=buyer))
        found = [m["id"] for m in page["items"] if m["order_no"] == no]
        if found:
            return no, int(found[0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message for {no}")


def _header_count(html: str) -> int:
    found = re.search(r'aria-label="未读消息">(\d+)<', html)
    return int(found.group(1)) if found else 0


async def _unread_count(api: Api) -> int:
    me = await ok(api.http.get("/api/me", headers=await api.login("leiliang")))
    return int(me["unread_messages"])


async def test_messages_page_lists_newest_first_as_unread(api: Api) -> None:
    no, message_id = await _returned_order_message(api)
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/my/messages")
    assert page.status_code == 200
    assert f"【百胜云市场】订单 {no} 被打回，请修改信息后重新提交" in page.text
    newest = re.search(r'id="message-(\d+)"', page.text)
    assert newest is not None and int(newest.group(1)) == message_id
    assert "未读" in page.text and "全部标为已读" in page.text


async def test_header_shows_the_unread_count(api: Api) -> None:
    await _returned_order_message(api)
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/my/orders")
    assert _header_count(page.text) == await _unread_count(api) >= 1


async def test_header_of_staff_has_no_messages(api: Api) -> None:
    reviewer = await signed_in_pages(api, "bmp")
    page = await reviewer.get("/admin/orders")
    assert "我的消息" not in page.text


async def test_read_message_on_the_page_shows_it_and_marks_it_read(api: Api) -> None:
    _, message_id = await _returned_order_message(api)
    buyer = await signed_in_pages(api, "leiliang")
    before = await _unread_count(api)
    listing = await buyer.get("/my/messages")
    page = await buyer.post(
        f"/my/messages/{message_id}/read", data={"csrf_token": form_token(listing.text)}
    )
    assert page.status_code == 200
    assert "店铺名称有误" in page.text  # the body of the opened message
    assert await _unread_count(api) == before - 1
    assert _header_count(page.text) == before - 1
    unread = await buyer.get("/my/messages?unread=true")
    assert f'id="message-{message_id}"' not in unread.text


async def test_read_all_on_the_page_leaves_none_unread(api: Api) -> None:
    await _returned_order_message(api)
    buyer = await signed_in_pages(api, "leiliang")
    listing = await buyer.get("/my/messages")
    page = await buyer.post("/my/messages/read-all", data={"csrf_token": form_token(listing.text)})
    assert "已全部标为已读" in page.text
    assert _header_count(page.text) == 0
    assert await _unread_count(api) == 0


async def _account_form(buyer: httpx.AsyncClient) -> str:
    page = await buyer.get("/my/account")
    assert page.status_code == 200
    return form_token(page.text)


async def test_account_page_shows_the_company_read_only(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    page = await buyer.get("/my/account")
    assert 'value="示例科技有限公司" readonly' in page.text
    assert 'name="company"' not in page.text


async def test_account_page_saves_the_contact_fields(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    token = await _account_form(buyer)
    page = await buyer.post(
        "/my/account",
        data={"contact_name": "张三", "mobile": "13712345678", "csrf_token": token},
    )
    assert page.status_code == 200 and "账户信息已保存" in page.text
    assert 'value="13712345678"' in page.text
    me = await ok(api.http.get("/api/me", headers=await api.login("zhangsan")))
    assert (me["contact_name"], me["mobile"], me["email"]) == (
        "张三",
        "13712345678",
        "zhangsan@example.com",
    )


async def test_account_page_shows_a_chinese_field_error_and_keeps_the_input(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    token = await _account_form(buyer)
    page = await buyer.post(
        "/my/account", data={"mobile": "12345", "email": "坏邮箱", "csrf_token": token}
    )
    assert refused_back_to(page, "/my/account")
    assert "请输入正确的11位手机号" in page.text and "请输入正确的邮箱地址" in page.text
    assert 'value="12345"' in page.text
    me = await ok(api.http.get("/api/me", headers=await api.login("zhangsan")))
    assert me["email"] == "zhangsan@example.com"


async def test_password_change_with_wrong_current_password_shows_it(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    token = await _account_form(buyer)
    page = await buyer.post(
        "/my/account/password",
        data={
            "current_password": "not-the-password",
            "new_password": "a-new-password",
            "confirm_password": "a-new-password",
            "csrf_token": token,
        },
    )
    assert refused_back_to(page, "/my/account") and "当前密码不正确" in page.text


async def test_password_change_with_a_different_confirmation_shows_it(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    token = await _account_form(buyer)
    page = await buyer.post(
        "/my/account/password",
        data={
            "current_password": "demo",
            "new_password": "a-new-password",
            "confirm_password": "another-password",
            "csrf_token": token,
        },
    )
    assert refused_back_to(page, "/my/account") and "两次输入的新密码不一致" in page.text
    # Nothing changed: the old password still signs in.
    signed = await api.http.post(
        "/api/auth/token", data={"username": "zhangsan", "password": "demo"}
    )
    assert signed.status_code == 200


async def test_page_and_message_numbers_that_are_no_numbers_show_the_first_page(
    api: Api,
) -> None:
    """A link typed by hand (a superscript digit, a number past any page) is the first page."""
    buyer = await signed_in_pages(api, "leiliang")
    for query in ("page=²", "open=²", "page=" + "9" * 30, "open=" + "9" * 5000):
        page = await buyer.get(f"/my/messages?{query}")
        assert page.status_code == 200, query
