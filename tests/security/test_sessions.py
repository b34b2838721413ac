"""Revocable sign-in.

Threat: a stolen or shared token keeps working for 12 hours after sign-out; a deleted,
disabled or demoted user keeps access.

Control: server-side sessions checked on every request: sign-out ends that token at once, a
password change every other, disabling or a role change every one; web sessions slide while
used and end when idle.

Revocable sign-in: sign-out, password change, disabling and role change end tokens at once;
web sessions slide while used and end when idle; the check costs one read, rarely a write.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.auth import TOKEN_COOKIE, issue_token
from db import accounts, models
from domain.order import Actor
from domain.statuses import Role
from tests.security.app_under_test import (
    BASE_URL,
    PASSWORD,
    bearer,
    client,
    new_account,
    running_app,
    settings_for,
    web_sign_in,
)

IDLE_MINUTES = 5
NEW_PASSWORD = "a much better password"


@pytest.fixture
async def app(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[FastAPI]:
    settings = settings_for(tmp_path, web_session_idle_minutes=IDLE_MINUTES)
    async with running_app(settings, dev_server, session_maker) as app:
        yield app


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_id_of(app: FastAPI, token: str) -> str:
    secret = app.state.shop_orders.settings.jwt_secret.get_secret_value()
    return str(jwt.decode(token, secret, algorithms=["HS256"])["sid"])


async def session_row(
    sessions: async_sessionmaker[AsyncSession], session_id: str
) -> models.SignInSession:
    async with sessions() as db:
        row = await db.get(models.SignInSession, session_id)
    assert row is not None
    return row


async def last_used(
    sessions: async_sessionmaker[AsyncSession], session_id: str, minutes_ago: float
) -> None:
    """As if the session was last used ``minutes_ago``."""
    async with sessions() as db:
        await db.execute(
            update(models.SignInSession)
            .where(models.SignInSession.id == session_id)
            .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=minutes_ago))
        )
        await db.commit()


async def test_logout_ends_the_token_at_once_and_no_other(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        token, other = await bearer(http, username), await bearer(http, username)
        assert (await http.get("/api/me", headers=auth(token))).status_code == 200
        out = await http.post("/api/auth/logout", headers=auth(token))
        after = await http.get("/api/me", headers=auth(token))
        others = await http.get("/api/me", headers=auth(other))
    assert (out.status_code, after.status_code, others.status_code) == (204, 401, 200)
    assert after.json()["code"] == "not_authenticated"


async def test_token_without_a_session_is_401(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    settings = app.state.shop_orders.settings
    actor = Actor(username=await new_account(session_maker), role=Role.BUYER)
    made_up = issue_token(settings, actor, session_id=secrets.token_urlsafe(32))
    async with client(app) as http:
        answer = await http.get("/api/me", headers=auth(made_up))
    assert answer.status_code == 401


async def test_web_sign_out_ends_the_cookie_at_once(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, headers={"Origin": BASE_URL}) as http:
        form_token = await web_sign_in(http, username)
        cookie = http.cookies[TOKEN_COOKIE]
        out = await http.post("/logout", data={"csrf_token": form_token})
        http.cookies.set(TOKEN_COOKIE, cookie)  # the stolen copy of the cookie
        page = await http.get("/my/orders")
        api_call = await http.get("/api/me")
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/my/orders")
    assert api_call.status_code == 401


async def test_password_change_ends_other_tokens_and_keeps_this_one(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        mine, elsewhere = await bearer(http, username), await bearer(http, username)
        changed = await http.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=auth(mine),
        )
        still_mine = await http.get("/api/me", headers=auth(mine))
        ended = await http.get("/api/me", headers=auth(elsewhere))
        old_password = await http.post(
            "/api/auth/token", data={"username": username, "password": PASSWORD}
        )
        new_password = await http.post(
            "/api/auth/token", data={"username": username, "password": NEW_PASSWORD}
        )
    assert (changed.status_code, still_mine.status_code, ended.status_code) == (204, 200, 401)
    assert (old_password.status_code, new_password.status_code) == (401, 200)


async def test_password_change_with_wrong_current_password_is_422_and_changes_nothing(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        mine, elsewhere = await bearer(http, username), await bearer(http, username)
        refused = await http.post(
            "/api/me/password",
            json={"current_password": "not it", "new_password": NEW_PASSWORD},
            headers=auth(mine),
        )
        others = await http.get("/api/me", headers=auth(elsewhere))
        old_password = await http.post(
            "/api/auth/token", data={"username": username, "password": PASSWORD}
        )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "current_password", "message": "当前密码不正确"}]
    assert (others.status_code, old_password.status_code) == (200, 200)


async def test_password_change_with_short_or_missing_fields_is_422_in_chinese(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        mine = await bearer(http, username)
        short = await http.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": "1234567"},
            headers=auth(mine),
        )
        missing = await http.post("/api/me/password", json={}, headers=auth(mine))
    assert short.json()["errors"] == [{"field": "new_password", "message": "新密码至少 8 个字符"}]
    assert missing.json()["errors"] == [
        {"field": "current_password", "message": "请填写当前密码"},
        {"field": "new_password", "message": "新密码至少 8 个字符"},
    ]
    assert (short.status_code, missing.status_code) == (422, 422)


async def test_role_change_ends_every_token(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        token = await bearer(http, username)
        async with session_maker() as db:
            await accounts.change_role(db, username, Role.REVIEWER, now=datetime.now(UTC))
        ended = await http.get("/api/me", headers=auth(token))
        again = await http.get("/api/me", headers=auth(await bearer(http, username)))
    assert ended.status_code == 401
    assert (again.status_code, again.json()["role"]) == (200, "reviewer")


async def test_disabling_ends_every_token(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, headers={"Origin": BASE_URL}) as http:
        token = await bearer(http, username)
        await web_sign_in(http, username)
        async with session_maker() as db:
            await accounts.set_disabled(db, username, True, now=datetime.now(UTC))
        api_call = await http.get("/api/me", headers=auth(token))
        page = await http.get("/my/orders")
    assert api_call.status_code == 401
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/my/orders")


async def test_idle_web_session_is_sent_to_sign_in(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, headers={"Origin": BASE_URL}) as http:
        await web_sign_in(http, username)
        await last_used(session_maker, session_id_of(app, http.cookies[TOKEN_COOKIE]), 6)
        page = await http.get("/my/orders")
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/my/orders")


async def test_web_session_used_within_the_idle_time_slides_on(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, headers={"Origin": BASE_URL}) as http:
        await web_sign_in(http, username)
        session_id = session_id_of(app, http.cookies[TOKEN_COOKIE])
        await last_used(session_maker, session_id, 4)
        used = await http.get("/my/orders")
        seen = (await session_row(session_maker, session_id)).last_seen_at
        await last_used(session_maker, session_id, 4)  # idle 4 more minutes: 8 since sign-in
        later = await http.get("/my/orders")
    assert (used.status_code, later.status_code) == (200, 200)
    assert datetime.now(UTC) - seen < timedelta(seconds=30)


async def test_bearer_session_does_not_idle_out(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        token = await bearer(http, username)
        await last_used(session_maker, session_id_of(app, token), IDLE_MINUTES * 10)
        answer = await http.get("/api/me", headers=auth(token))
    assert answer.status_code == 200


async def test_session_check_writes_last_seen_at_most_once_a_minute(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app) as http:
        token = await bearer(http, username)
        session_id = session_id_of(app, token)
        first = (await session_row(session_maker, session_id)).last_seen_at
        for _ in range(3):
            assert (await http.get("/api/me", headers=auth(token))).status_code == 200
        unchanged = (await session_row(session_maker, session_id)).last_seen_at
        await last_used(session_maker, session_id, 2)
        await http.get("/api/me", headers=auth(token))
        touched = (await session_row(session_maker, session_id)).last_seen_at
    assert unchanged == first
    assert datetime.now(UTC) - touched < timedelta(seconds=30)
