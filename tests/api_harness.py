"""The API in-process over the time-skipping server with a real worker: signed-in clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import Settings
from tests.lifecycle_harness import TEST_PAYLOAD_KEYS, SmtpSink
from worker import build_worker

PROFILE = {
    "invoice_type": "vat_special",
    "title": "快乐贸易有限公司",
    "taxpayer_id": "91350100M000100Y43",
    "recipient_name": "张三",
    "recipient_mobile": "19390000000",
    "recipient_address": "上海市浦东新区峨山路91弄120号",
}


def order_body(profile_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_code": "JD0001",
        "module_codes": ["ERP"],
        "invoice_profile_id": profile_id,
        "service_market_order_no": f"SM{uuid.uuid4().hex[:12]}",
        "shop_name": "快乐京东旗舰店",
        "seller_nick": "kuaile",
        "baison_staff": "王工",
        "reminder_name": "李雷",
        "reminder_mobile": "13800138000",
        "reminder_email": "lilei@example.com",
        "agreement_accepted": True,
    }
    body.update(overrides)
    return body


@dataclass
class Api:
    http: httpx.AsyncClient
    temporal: Client
    smtp: SmtpSink
    settings: Settings

    async def login(self, username: str) -> dict[str, str]:
        response = await self.http.post("/api/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def profile(self, headers: dict[str, str]) -> int:
        response = await self.http.post("/api/invoice-profiles", json=PROFILE, headers=headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def place(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        profile_id = await self.profile(headers)
        response = await self.http.post("/api/orders", json=order_body(profile_id, **overrides), headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture
async def api(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> AsyncIterator[Api]:
    task_queue = f"api-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        data_dir=tmp_path,
        payload_keys=TEST_PAYLOAD_KEYS,
        temporal_task_queue=task_queue,
    )
    app = create_app(settings, temporal=time_skipping_env.client, sessions=session_maker)
    async with (
        build_worker(time_skipping_env.client, settings, session_maker, task_queue),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http, time_skipping_env.client, smtp_sink, settings)

