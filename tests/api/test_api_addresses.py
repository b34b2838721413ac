"""收货地址: a buyer's address book, one default, validated field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from tests.support.http_api import Api, ok

ADDRESS: dict[str, Any] = {
    "name": "张三",
    "mobile": "13800138000",
    "phone": "021-12345678",
    "postcode": "200120",
    "address": "上海市浦东新区峨山路91弄120号",
}


async def _addresses(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.http.get("/api/addresses", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def _add(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return await ok(api.http.post("/api/addresses", json=ADDRESS | overrides, headers=headers), 201)


def _defaults(addresses: list[dict[str, Any]]) -> list[int]:
    return [a["id"] for a in addresses if a["is_default"]]


async def test_create_address_first_one_is_the_default(api: Api) -> None:
    headers = await api.login("zhangsan")
    for existing in await _addresses(api, headers):
        await api.http.delete(f"/api/addresses/{existing['id']}", headers=headers)
    created = await _add(api, headers)
    assert {k: created[k] for k in ADDRESS} == ADDRESS
    assert created["is_default"] is True
    assert await _addresses(api, headers) == [created]


async def test_create_address_marked_default_unmarks_the_others(api: Api) -> None:
    headers = await api.login("zhangsan")
    first = await _add(api, headers)
    second = await _add(api, headers, name="李四", is_default=True)
    listed = await _addresses(api, headers)
    assert _defaults(listed) == [second["id"]]
    assert listed[0]["id"] == second["id"]  # the default first
    assert first["id"] in [a["id"] for a in listed]


async def test_create_address_without_phone_keeps_it_empty(api: Api) -> None:
    headers = await api.login("zhangsan")
    body = {k: v for k, v in ADDRESS.items() if k != "phone"}
    created = await ok(api.http.post("/api/addresses", json=body, headers=headers), 201)
    assert created["phone"] is None


async def test_replace_address_changes_fields_and_can_take_the_default(api: Api) -> None:
    headers = await api.login("zhangsan")
    await _add(api, headers, is_default=True)
    other = await _add(api, headers)
    new = ADDRESS | {"name": "王五", "mobile": "13912345678", "postcode": "100000"}
    replaced = await ok(
        api.http.put(
            f"/api/addresses/{other['id']}", json=new | {"is_default": True}, headers=headers
        )
    )
    assert {k: replaced[k] for k in new} == new
    assert _defaults(await _addresses(api, headers)) == [other["id"]]


async def test_delete_default_address_makes_the_newest_left_default(api: Api) -> None:
    headers = await api.login("zhangsan")
    older = await _add(api, headers)
    newest = await _add(api, headers)
    default = await _add(api, headers, is_default=True)
    response = await api.http.delete(f"/api/addresses/{default['id']}", headers=headers)
    assert response.status_code == 204
    listed = await _addresses(api, headers)
    assert default["id"] not in [a["id"] for a in listed]
    assert _defaults(listed) == [newest["id"]]
    assert older["id"] in [a["id"] for a in listed]


async def test_another_buyers_address_is_404(api: Api) -> None:
    owner = await api.login("zhangsan")
    address = await _add(api, owner)
    other = await api.login("leiliang")
    path = f"/api/addresses/{address['id']}"
    assert (await api.http.put(path, json=ADDRESS, headers=other)).status_code == 404
    assert (await api.http.delete(path, headers=other)).status_code == 404
    assert address["id"] not in [a["id"] for a in await _addresses(api, other)]
    assert address["id"] in [a["id"] for a in await _addresses(api, owner)]


async def test_addresses_are_refused_to_staff(api: Api) -> None:
    headers = await api.login("bmp")
    assert (await api.http.get("/api/addresses", headers=headers)).status_code == 403
    response = await api.http.post("/api/addresses", json=ADDRESS, headers=headers)
    assert response.status_code == 403


async def test_create_address_bad_mobile_and_postcode_are_422_in_chinese(api: Api) -> None:
    headers = await api.login("zhangsan")
    before = await _addresses(api, headers)
    response = await api.http.post(
        "/api/addresses",
        json=ADDRESS | {"mobile": "12345678901", "postcode": "20012", "phone": "电话"},
        headers=headers,
    )
    assert response.status_code == 422
    assert sorted(response.json()["errors"], key=lambda e: e["field"]) == [
        {"field": "mobile", "message": "请输入正确的11位手机号"},
        {"field": "phone", "message": "请输入正确的固定电话，如 021-12345678"},
        {"field": "postcode", "message": "邮政编码应为6位数字"},
    ]
    assert await _addresses(api, headers) == before


async def test_create_address_with_line_break_is_422(api: Api) -> None:
    headers = await api.login("zhangsan")
    response = await api.http.post(
        "/api/addresses", json=ADDRESS | {"address": "上海市\r\nBcc: x"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "address", "message": "收货地址不能包含换行或控制字符"}
    ]


async def test_marking_another_default_via_api_clears_the_old_default(api: Api) -> None:
    headers = await api.login("zhangsan")
    first = await _add(api, headers, is_default=True)
    second = await _add(api, headers, name="李四")
    made = await ok(
        api.http.put(
            f"/api/addresses/{second['id']}", json=ADDRESS | {"is_default": True}, headers=headers
        )
    )
    assert made["is_default"] is True
    listed = await _addresses(api, headers)
    assert _defaults(listed) == [second["id"]]
    assert first["id"] not in _defaults(listed)


async def test_a_second_default_written_directly_is_refused_by_the_database(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await api.login("zhangsan")
    await _add(api, headers, is_default=True)
    async with session_maker() as session:
        with pytest.raises(IntegrityError):
            await session.execute(
                insert(models.Address).values(
                    buyer="zhangsan",
                    name="直接写入",
                    mobile="13800138000",
                    postcode="200120",
                    address="上海",
                    is_default=True,
                    created_at=datetime.now(UTC),
                )
            )
        await session.rollback()
    assert len(_defaults(await _addresses(api, headers))) == 1
