"""Driving ShopOrderWorkflow on the time-skipping server with real activities.

Activities are the real ones: persistence into the test database and e-mail over SMTP
to an in-process aiosmtpd server whose messages the tests read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

from domain.calendar import service_end
from domain.catalog import Module
from domain.commands import Command
from domain.order import OrderState
from domain.statuses import SettlementMode
from tests.support.orders import product, product_snapshot
from tests.support.samples import BUYER, ORDER_CONTACTS, PROFILE_SNAPSHOT
from tests.support.smtp import SmtpSink
from workflows.codec import WORKFLOW_ID
from workflows.messages import StepAnswer, whole_order
from workflows.search_attributes import ALL_KEYS
from workflows.shop_order import ShopOrderWorkflow, StartOrder, update_name

# One catalog product of each settlement mode.
PRODUCTS = {
    SettlementMode.INVOICE_AND_REFUND: product_snapshot(product("JD0001")),
    SettlementMode.INVOICE_ONLY: product_snapshot(product("JSFW0001")),
    SettlementMode.REFUND_ONLY: product_snapshot(product("DY0001")),
}


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
            invoice_profile=PROFILE_SNAPSHOT,
            contract_name=PROFILE_SNAPSHOT.title,
            service_market_order_no=f"SM{uuid.uuid4().hex[:12]}",
            shop_name="快乐旗舰店",
            **ORDER_CONTACTS,
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
        """The answer, completed as the API completes it: the earlier 操作记录 from the order
        as the workflow has it now (its record only grows)."""
        answer: StepAnswer = await handle.execute_update(
            update_name(command), command, id=update_id, result_type=StepAnswer
        )
        now: OrderState = await handle.query(ShopOrderWorkflow.state)
        whole = whole_order(answer, now.events)
        assert whole is not None, "the answer does not continue the workflow's record"
        return whole

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
    SearchAttributeIndexedValueType.KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


async def register_search_attributes(client: Client) -> None:
    """The time-skipping server refuses unknown search attributes, as a real cluster does."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: INDEXED_TYPES[key.indexed_value_type] for key in ALL_KEYS},
        )
    )


HISTORY_DIR = Path(__file__).resolve().parents[1] / "histories"


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
