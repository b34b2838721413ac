"""Signing in, who is who, and which role may use which route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import issue_token
from db import models
from db.passwords import hash_password
from domain.order import Actor
from domain.statuses import Role
from tests.support.http_api import Api
from tests.support.samples import order_body


async def test_sign_in_wrong_password_is_401(api: Api) -> None:
    response = await api.http.post(
        "/api/auth/token", data={"username": "leiliang", "password": "nope"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert (body["status"], body["code"], body["detail"]) == (
        401,
        "not_authenticated",
        "用户名或密码错误",
    )


async def test_sign_in_unknown_user_is_the_same_401(api: Api) -> None:
    response = await api.http.post(
        "/api/auth/token", data={"username": "ghost", "password": "demo"}
    )
    assert (response.status_code, response.json()["detail"]) == (401, "用户名或密码错误")


async def test_sign_in_answers_a_bearer_token_and_role(api: Api) -> None:
    response = await api.http.post("/api/auth/token", data={"username": "bmp", "password": "demo"})
    body = response.json()
    assert (body["token_type"], body["role"]) == ("bearer", "reviewer")
    claims = jwt.decode(
        body["access_token"], api.settings.jwt_secret.get_secret_value(), algorithms=["HS256"]
    )
    assert (claims["sub"], claims["exp"] - claims["iat"]) == (
        "bmp",
        api.settings.jwt_ttl_minutes * 60,
    )


async def test_me_tells_who_is_signed_in(api: Api) -> None:
    me = await api.http.get("/api/me", headers=await api.login("leiliang"))
    body = me.json()
    who = {k: body[k] for k in ("username", "role", "company")}
    assert who == {"username": "leiliang", "role": "buyer", "company": "快乐贸易有限公司"}
    # The account's contact fields and unread count are tests/api/test_api_account.py's.
    assert set(body) == {*who, "contact_name", "mobile", "email", "unread_messages"}


async def test_me_without_token_is_401(api: Api) -> None:
    response = await api.http.get("/api/me")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")


async def test_me_with_forged_token_is_401(api: Api) -> None:
    forged = jwt.encode(
        {
            "sub": "bmp",
            "role": "admin",
            "iat": datetime.now(UTC),
            "exp": datetime.now(UTC) + timedelta(hours=1),
        },
        "not-the-secret-but-long-enough-for-hs256-000000",
        algorithm="HS256",
    )
    response = await api.http.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_me_with_expired_token_is_401(api: Api) -> None:
    actor = Actor(username="leiliang", role=Role.BUYER, company="快乐贸易有限公司")
    live = (await api.login("leiliang"))["Authorization"].removeprefix("Bearer ")
    session_id = jwt.decode(live, api.settings.jwt_secret.get_secret_value(), algorithms=["HS256"])[
        "sid"
    ]
    stale = issue_token(
        api.settings, actor, session_id=session_id, now=datetime.now(UTC) - timedelta(days=2)
    )
    response = await api.http.get("/api/me", headers={"Authorization": f"Bearer {stale}"})
    assert response.status_code == 401


async def test_orders_anonymous_is_401(api: Api) -> None:
    for method, path in (
        ("GET", "/api/orders"),
        ("POST", "/api/orders"),
        ("GET", "/api/admin/orders"),
    ):
        response = await api.http.request(method, path, json={})
        assert response.status_code == 401, path


async def test_admin_orders_as_buyer_is_403(api: Api) -> None:
    response = await api.http.get("/api/admin/orders", headers=await api.login("leiliang"))
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


async def test_buyer_orders_as_reviewer_is_403(api: Api) -> None:
    reviewer = await api.login("bmp")
    assert (await api.http.get("/api/orders", headers=reviewer)).status_code == 403
    assert (await api.http.get("/api/invoice-profiles", headers=reviewer)).status_code == 403


async def test_place_order_as_reviewer_is_403(api: Api) -> None:
    response = await api.http.post(
        "/api/orders", json=order_body(1), headers=await api.login("bmp")
    )
    assert response.status_code == 403


async def test_approve_as_buyer_is_403(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await api.place(buyer)
    response = await api.http.post(
        f"/api/admin/orders/{order['order_no']}/approve", json={}, headers=buyer
    )
    assert response.status_code == 403
    assert (await api.http.get(f"/api/orders/{order['order_no']}", headers=buyer)).json()[
        "status"
    ] == "submitted"


async def test_payout_as_reviewer_is_403(api: Api) -> None:
    response = await api.http.post(
        "/api/finance/refunds/TK202210181408314977/payout",
        json={"amount_fen": 1, "bank_reference": "x"},
        headers=await api.login("bmp"),
    )
    assert response.status_code == 403


async def test_finance_routes_as_reviewer_and_back_office_as_finance_are_403(api: Api) -> None:
    assert (
        await api.http.get("/api/finance/payouts", headers=await api.login("bmp"))
    ).status_code == 403
    assert (
        await api.http.get("/api/admin/orders", headers=await api.login("finance"))
    ).status_code == 403


async def test_admin_uses_back_office_and_finance_routes(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        if await session.scalar(select(models.User).where(models.User.username == "root")) is None:
            session.add(
                models.User(
                    username="root",
                    password_hash=hash_password("demo"),
                    role="admin",
                    company="百胜软件",
                    email=None,
                    created_at=datetime.now(UTC),
                )
            )
            await session.commit()
    admin = await api.login("root")
    order = await api.place(await api.login("leiliang"))
    assert (await api.http.get("/api/finance/payouts", headers=admin)).status_code == 200
    approved = await api.http.post(
        f"/api/admin/orders/{order['order_no']}/approve", json={}, headers=admin
    )
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert (await api.http.get("/api/orders", headers=admin)).status_code == 403


async def test_me_with_the_token_in_the_browser_cookie(api: Api) -> None:
    bearer = (await api.login("finance"))["Authorization"].removeprefix("Bearer ")
    me = await api.http.get("/api/me", headers={"Cookie": f"access_token={bearer}"})
    assert me.json()["username"] == "finance"
