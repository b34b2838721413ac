"""Sign-in throttling.

Threat: passwords guessed at full speed, and sign-in used to exhaust CPU and memory (each
check is a 64 MiB Argon2 hash).

Control: failures counted per account and per client address in the database, growing back-
off with 429 and Retry-After before any hashing; concurrent Argon2 checks capped per
process; failures counted in metrics by reason, never by username.

Sign-in throttling: per account and per client address, growing back-off, refused before
any Argon2 work; Argon2 checks capped per process; failures counted by reason.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api import password_check
from api.sign_in_throttle import lock_seconds
from db import accounts
from db.passwords import verify_password
from tests.security.app_under_test import (
    PASSWORD,
    client,
    new_account,
    running_app,
    settings_for,
)
from tests.support.http_api import form_token

MAX_FAILURES = 5
MAX_PER_ADDRESS = 8


@pytest.fixture
async def app(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[FastAPI]:
    settings = settings_for(
        tmp_path,
        sign_in_max_failures=MAX_FAILURES,
        sign_in_max_failures_per_address=MAX_PER_ADDRESS,
        sign_in_lockout_seconds=1,
    )
    async with running_app(settings, dev_server, session_maker) as app:
        yield app


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2 verification the app runs (the password it checked)."""
    calls: list[str] = []

    def counted(password_hash: str, password: str) -> bool:
        calls.append(password)
        return verify_password(password_hash, password)

    monkeypatch.setattr(password_check, "verify_password", counted)
    return calls


async def attempt(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/token", data={"username": username, "password": password})


async def test_sign_in_sixth_and_later_failures_are_429_without_argon2(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession], argon2_calls: list[str]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.0.1") as http:
        answers = [await attempt(http, username, f"wrong {n}") for n in range(30)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 25
    assert len(argon2_calls) == 5
    refused = answers[5]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"  # SIGN_IN_LOCKOUT_SECONDS here
    body = refused.json()
    assert (body["status"], body["code"]) == (429, "too_many_attempts")
    assert re.fullmatch(r"登录失败次数过多，请在 \d+ 秒后重试", body["detail"])


async def test_sign_in_right_password_while_locked_is_still_429(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession], argon2_calls: list[str]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.1.1") as http:
        for n in range(MAX_FAILURES):
            await attempt(http, username, f"wrong {n}")
        answer = await attempt(http, username, PASSWORD)
    assert answer.status_code == 429
    assert PASSWORD not in argon2_calls


async def test_sign_in_lock_doubles_with_each_further_failure(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.2.1") as http:
        for n in range(MAX_FAILURES):
            await attempt(http, username, f"wrong {n}")
        first_lock = await attempt(http, username, "wrong")
        await asyncio.sleep(1.1)
        after_the_lock = await attempt(http, username, "wrong again")
        second_lock = await attempt(http, username, "wrong")
    assert (first_lock.status_code, first_lock.headers["retry-after"]) == (429, "1")
    assert after_the_lock.status_code == 401
    assert (second_lock.status_code, second_lock.headers["retry-after"]) == (429, "2")


def test_lock_seconds_double_up_to_the_cap() -> None:
    settings = settings_for(Path("."))
    locks = [lock_seconds(settings, failures, 5) for failures in range(3, 12)]
    assert locks == [0, 0, 30, 60, 120, 240, 480, 900, 900]


async def test_sign_in_account_lock_holds_from_another_address(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    other = await new_account(session_maker)
    async with client(app, "10.1.3.1") as first, client(app, "10.1.3.2") as second:
        for n in range(MAX_FAILURES):
            await attempt(first, username, f"wrong {n}")
        same_account_elsewhere = await attempt(second, username, PASSWORD)
        other_account_elsewhere = await attempt(second, other, "wrong")
        other_account_here = await attempt(first, other, PASSWORD)
    assert same_account_elsewhere.status_code == 429
    assert other_account_elsewhere.status_code == 401
    assert other_account_here.status_code == 200


async def test_sign_in_address_is_locked_after_failures_across_accounts(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.4.1") as guesser, client(app, "10.1.4.2") as neighbour:
        # One failure per made-up account: no account reaches its own limit.
        for n in range(MAX_PER_ADDRESS):
            assert (await attempt(guesser, f"nobody-{n}-{username}", "x")).status_code == 401
        from_the_guesser = await attempt(guesser, username, PASSWORD)
        from_another_address = await attempt(neighbour, username, PASSWORD)
    assert from_the_guesser.status_code == 429
    assert from_another_address.status_code == 200


async def test_sign_in_success_clears_the_account_count(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.5.1") as http:
        before = [await attempt(http, username, f"wrong {n}") for n in range(MAX_FAILURES - 1)]
        success = await attempt(http, username, PASSWORD)
    async with client(app, "10.1.5.2") as http:
        after = [await attempt(http, username, f"wrong {n}") for n in range(MAX_FAILURES - 1)]
        again = await attempt(http, username, PASSWORD)
    assert [a.status_code for a in before + after] == [401] * (2 * MAX_FAILURES - 2)
    assert (success.status_code, again.status_code) == (200, 200)


async def test_sign_in_disabled_account_is_403_with_the_right_password(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with session_maker() as db:
        await accounts.set_disabled(db, username, True, now=datetime.now(UTC))
    async with client(app, "10.1.6.1") as http:
        answer = await attempt(http, username, PASSWORD)
    assert (answer.status_code, answer.json()["code"]) == (403, "account_disabled")
    assert answer.json()["detail"] == "该账号已停用，请联系管理员"


async def test_login_page_shows_the_lock_in_chinese(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.7.1", headers={"Origin": "http://app.test"}) as http:
        token = form_token((await http.get("/login")).text)
        pages = [
            await http.post(
                "/login", data={"username": username, "password": "wrong", "csrf_token": token}
            )
            for _ in range(MAX_FAILURES + 1)
        ]
    assert [p.status_code for p in pages] == [401] * MAX_FAILURES + [429]
    assert "账号或密码错误" in pages[0].text
    locked = pages[-1]
    assert locked.headers["content-type"].startswith("text/html")
    assert locked.headers["retry-after"] == "1"
    assert "登录失败次数过多，请在 1 秒后重试" in locked.text


async def test_sign_in_failures_are_counted_by_reason_never_by_username(
    app: FastAPI, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(session_maker)
    async with client(app, "10.1.8.1") as http:
        for n in range(MAX_FAILURES + 2):
            await attempt(http, username, f"wrong {n}")
        metrics = (await http.get("/metrics")).text
    assert 'shop_orders_sign_in_failures_total{reason="wrong_password"} 5.0' in metrics
    assert 'shop_orders_sign_in_failures_total{reason="throttled"} 2.0' in metrics
    assert username not in metrics


async def test_argon2_checks_beyond_the_cap_wait_briefly_then_get_503(
    dev_server: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = 0
    most_at_once = 0
    lock = threading.Lock()

    def slow(password_hash: str, password: str) -> bool:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
        time.sleep(0.5)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(password_check, "verify_password", slow)
    settings = settings_for(tmp_path, password_checks_at_once=2, password_check_wait_seconds=0.1)
    username = await new_account(session_maker)
    async with running_app(settings, dev_server, session_maker) as app:
        clients = [client(app, f"10.1.9.{n}") for n in range(1, 7)]
        answers = await asyncio.gather(*(attempt(c, username, "x") for c in clients))
        for c in clients:
            await c.aclose()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401, 401, 503, 503, 503, 503]
    assert most_at_once == 2
    busy = next(a for a in answers if a.status_code == 503)
    assert (busy.json()["code"], busy.headers["retry-after"]) == ("sign_in_busy", "1")
