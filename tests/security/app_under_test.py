"""The app in-process with settings of a test's own (short limits), over the test database and
the shared Temporal dev server, reached from client addresses of the test's choosing so its
sign-in counts never meet another test's; accounts made per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from db import models
from db.passwords import hash_password
from devstack.processes import free_port
from domain.statuses import Role
from settings import Settings
from tests.support.http_api import form_token
from tests.support.keys import TEST_PAYLOAD_KEYS

BASE_URL = "http://app.test"
PASSWORD = "correct horse battery"


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of an app under test. The address limit is out of the way unless a test sets
    it: locks live in the shared database, and a lock on 127.0.0.1 earned here would refuse
    every later test's sign-ins (the fuzz fails there by the hundred)."""
    return Settings(
        payload_keys=TEST_PAYLOAD_KEYS,
        data_dir=data_dir,
        temporal_task_queue=f"security-{uuid.uuid4().hex[:8]}",
        **({"sign_in_max_failures_per_address": 100_000} | overrides),
    )


@asynccontextmanager
async def running_app(
    settings: Settings,
    dev_server: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[FastAPI]:
    app = create_app(settings, temporal=dev_server.client, sessions=sessions)
    async with app.router.lifespan_context(app):
        yield app


def client(app: FastAPI, address: str = "10.0.0.1", **options: Any) -> httpx.AsyncClient:
    """A client of ``app`` calling from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, **options)


async def new_account(
    sessions: async_sessionmaker[AsyncSession], role: Role = Role.BUYER, password: str = PASSWORD
) -> str:
    username = f"sec-{uuid.uuid4().hex[:10]}"
    async with sessions() as db:
        db.add(
            models.User(
                username=username,
                password_hash=hash_password(password),
                role=role.value,
                company="安全测试有限公司",
                email=None,
                created_at=datetime.now(UTC),
            )
        )
        await db.commit()
    return username


async def bearer(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    answer = await http.post("/api/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def web_sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Signs ``http`` in through the login form (as from the site's own page); the token of
    the forms of the page it lands on."""
    login = await http.get("/login")
    landed = await http.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_token(login.text)},
        headers={"Origin": BASE_URL},
        follow_redirects=True,
    )
    assert landed.status_code == 200, landed.text
    return form_token(landed.text)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on a real port of 127.0.0.1 (for the browser); its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn offers no event to wait on; it starts within a second
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
