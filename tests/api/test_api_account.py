"""账户信息 over HTTP: GET/PUT /api/me, checked with the domain's rules in Chinese; the
company is read-only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.http_api import Api, ok


@pytest.fixture
async def zhangsan_restored(api: Api) -> AsyncIterator[dict[str, str]]:
    """zhangsan's token; the account's contact fields put back afterwards (shared database)."""
    headers = await api.login("zhangsan")
    before = await ok(api.http.get("/api/me", headers=headers))
    yield headers
    kept = {k: before[k] for k in ("contact_name", "mobile", "email") if before[k]}
    await ok(api.http.put("/api/me", json=kept, headers=headers))


async def test_update_me_saves_the_contact_fields(
    api: Api, zhangsan_restored: dict[str, str]
) -> None:
    body = {"contact_name": " 张三 ", "mobile": "13912345678", "email": "zs@example.com"}
    saved = await ok(api.http.put("/api/me", json=body, headers=zhangsan_restored))
    assert saved == {
        "username": "zhangsan",
        "role": "buyer",
        "company": "示例科技有限公司",
        "contact_name": "张三",
        "mobile": "13912345678",
        "email": "zs@example.com",
        "unread_messages": saved["unread_messages"],
    }
    assert await ok(api.http.get("/api/me", headers=zhangsan_restored)) == saved


async def test_update_me_keeps_the_fields_left_out(
    api: Api, zhangsan_restored: dict[str, str]
) -> None:
    await ok(api.http.put("/api/me", json={"contact_name": "张三"}, headers=zhangsan_restored))
    saved = await ok(
        api.http.put("/api/me", json={"mobile": "13812345678"}, headers=zhangsan_restored)
    )
    assert (saved["contact_name"], saved["mobile"]) == ("张三", "13812345678")


async def test_update_me_invalid_fields_are_422_in_chinese(
    api: Api, zhangsan_restored: dict[str, str]
) -> None:
    before = await ok(api.http.get("/api/me", headers=zhangsan_restored))
    body = {"contact_name": "  ", "mobile": "12345678901", "email": "not-an-email"}
    response = await api.http.put("/api/me", json=body, headers=zhangsan_restored)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "contact_name", "message": "请填写联系人"},
        {"field": "mobile", "message": "请输入正确的11位手机号"},
        {"field": "email", "message": "请输入正确的邮箱地址"},
    ]
    assert await ok(api.http.get("/api/me", headers=zhangsan_restored)) == before


async def test_update_me_company_is_refused(api: Api, zhangsan_restored: dict[str, str]) -> None:
    body = {"company": "别的公司", "contact_name": "张三"}
    response = await api.http.put("/api/me", json=body, headers=zhangsan_restored)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "company", "message": "公司名称不可修改，如需变更请联系客服"}
    ]
    me = await ok(api.http.get("/api/me", headers=zhangsan_restored))
    assert me["company"] == "示例科技有限公司"


async def test_update_me_role_is_refused(api: Api, zhangsan_restored: dict[str, str]) -> None:
    response = await api.http.put("/api/me", json={"role": "admin"}, headers=zhangsan_restored)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "role")


async def test_update_me_without_token_is_401(api: Api) -> None:
    response = await api.http.put("/api/me", json={"contact_name": "张三"})
    assert response.status_code == 401
