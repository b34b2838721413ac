"""Fixtures for driving ShopOrderWorkflow on the time-skipping server with real activities.

Activities are the real ones: persistence into the test database and e-mail over SMTP
to an in-process aiosmtpd server whose messages the tests read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

from domain.calendar import service_end
from domain.catalog import Module, Platform
from domain.commands import Command
from domain.order import Actor, InvoiceProfileSnapshot, OrderState, ProductSnapshot
from domain.statuses import InvoiceType, Role, SettlementMode
from settings import Settings
from worker import SANDBOXED, build_worker
from workflows.client import data_converter
from workflows.codec import WORKFLOW_ID
from workflows.search_attributes import ALL_KEYS
from workflows.shop_order import ShopOrderWorkflow, StartOrder, update_name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A fixed key, so the recorded histories under tests/histories replay.
TEST_PAYLOAD_KEYS = "test1:dGVzdC1wYXlsb2FkLWtleS0zMi1ieXRlcy1sb25nISE="
TEST_SETTINGS = Settings(environment="development", payload_keys=TEST_PAYLOAD_KEYS)

ROOT = Path(__file__).resolve().parents[1]
BUYER = Actor(username="leiliang", role=Role.BUYER, company="快乐贸易有限公司")
OTHER_BUYER = Actor(username="zhangsan", role=Role.BUYER, company="示例科技有限公司")
REVIEWER = Actor(username="bmp", role=Role.REVIEWER, company="百胜软件")
FINANCE = Actor(username="finance", role=Role.FINANCE, company="百胜软件")

PRODUCTS = {
    SettlementMode.INVOICE_AND_REFUND: ProductSnapshot(
        code="JD0001",
        name="E3-京东开放平台对接服务",
        line="E3",
        platform=Platform.JD,
        settlement_mode=SettlementMode.INVOICE_AND_REFUND,
        refund_share_bp=5000,
        agreement="《店铺订购协议-E3》",
    ),
    SettlementMode.INVOICE_ONLY: ProductSnapshot(
        code="JSFW0001",
        name="E3-淘宝开放平台对接服务",
        line="E3",
        platform=Platform.TAOBAO,
        settlement_mode=SettlementMode.INVOICE_ONLY,
        refund_share_bp=0,
        agreement="《店铺订购协议-E3》",
    ),
    SettlementMode.REFUND_ONLY: ProductSnapshot(
        code="DY0001",
        name="E3-抖店开放平台对接服务",
        line="E3",
        platform=Platform.DOUYIN,
        settlement_mode=SettlementMode.REFUND_ONLY,
        refund_share_bp=10000,
        agreement="《店铺订购协议-E3》",
    ),
}


class SmtpSink:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def for_order(self, order_no: str) -> list[EmailMessage]:
        return [m for m in self.messages if order_no in m.get_body(("plain",)).get_content()]  # type: ignore[union-attr]

    def subjects(self, order_no: str) -> list[str]:
        return [str(m["Subject"]) for m in self.for_order(order_no)]


@dataclass
class Lifecycle:
    env: WorkflowEnvironment
    task_queue: str
    sessions: async_sessionmaker[AsyncSession]
    smtp: SmtpSink

    @property
    def client(self) -> Client:
        return self.env.client

    async def place(
        self,
        mode: SettlementMode = SettlementMode.INVOICE_AND_REFUND,
        *,
        price_fen: int = 200_000,
        term: tuple[int, timedelta] = (1, timedelta(0)),
        placed_at: datetime | None = None,
        **overrides: Any,
    ) -> tuple[WorkflowHandle[Any, Any], OrderState]:
        placed_at = placed_at or await self.env.get_current_time()
        order_no = f"BS-ZX{placed_at:%Y%m%d%H%M%S}{uuid.uuid4().int % 10_000:04d}"
        fields: dict[str, Any] = dict(
            order_no=order_no,
            buyer=BUYER.username,
            buyer_company=BUYER.company,
            buyer_email="leiliang@example.com",
            product=PRODUCTS[mode],
            modules=[Module(code="ERP", name="百胜电商ERP", price_fen=price_fen)],
            standard_fen=price_fen,
            invoice_profile=InvoiceProfileSnapshot(
                profile_id=1,
                invoice_type=InvoiceType.VAT_SPECIAL,
                title="快乐贸易有限公司",
                taxpayer_id="91350100M000100Y43",
                recipient_name="张三",
                recipient_mobile="19390000000",
                recipient_address="上海市浦东新区峨山路91弄120号",
            ),
            contract_name="快乐贸易有限公司",
            service_market_order_no=f"SM{uuid.uuid4().hex[:12]}",
            shop_name="快乐旗舰店",
            seller_nick="kuaile",
            baison_staff="王工",
            reminder_name="李雷",
            reminder_mobile="13800138000",
            reminder_email="lilei@example.com",
            reminder_backup_email="backup@example.com",
            placed_at=placed_at,
            service_end_at=service_end(placed_at, *term),
        )
        fields.update(overrides)
        state = OrderState(**fields)
        handle = await self.client.start_workflow(
            ShopOrderWorkflow.run,
            StartOrder(order=state),
            id=order_no,
            task_queue=self.task_queue,
        )
        recorded = await handle.execute_update(ShopOrderWorkflow.recorded)
        return handle, recorded

    async def act(
        self, handle: WorkflowHandle[Any, Any], command: Command, update_id: str | None = None
    ) -> OrderState:
        result: OrderState = await handle.execute_update(
            update_name(command), command, id=update_id, result_type=OrderState
        )
        return result

    async def mail_settled(self, count: int, order_no: str, within: float = 10.0) -> list[str]:
        """Wait until ``count`` e-mails about the order arrived; returns their subjects."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.smtp.for_order(order_no)) < count:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        return self.smtp.subjects(order_no)


INDEXED_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def register_search_attributes(client: Client) -> None:
    """The time-skipping server refuses unknown search attributes, as a real cluster does."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: INDEXED_TYPES[key.indexed_value_type] for key in ALL_KEYS},
        )
    )


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(ROOT / ".venv" / "bin" / "temporal-test-server"),
        data_converter=data_converter(TEST_SETTINGS),
    )
    # One server per test: time skipping stalls while another test's runs wait on a worker.
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
async def lifecycle(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> AsyncIterator[Lifecycle]:
    settings = Settings(
        environment="development",
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        data_dir=tmp_path,
        payload_keys=TEST_PAYLOAD_KEYS,
    )
    task_queue = f"lifecycle-{uuid.uuid4().hex[:8]}"
    worker = build_worker(
        time_skipping_env.client, settings, session_maker, task_queue, workflow_runner=SANDBOXED
    )
    async with worker:
        yield Lifecycle(time_skipping_env, task_queue, session_maker, smtp_sink)


HISTORY_DIR = ROOT / "tests" / "histories"


def recorded_history(path: Path) -> WorkflowHistory:
    """A history kept by keep_history, under the workflow id it ran as: payloads are bound
    to it, so it replays only as that id. The start event's input names it in clear."""
    text = path.read_text()
    started = json.loads(text)["events"][0]["workflowExecutionStartedEventAttributes"]
    bound_to = started["input"]["payloads"][0]["metadata"][WORKFLOW_ID]
    return WorkflowHistory.from_json(base64.b64decode(bound_to).decode(), text)


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With RECORD_HISTORIES=1, write the run's history for the replay test to pin."""
    if os.environ.get("RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORY_DIR.mkdir(exist_ok=True)
    (HISTORY_DIR / f"{name}.json").write_text(history.to_json())
