"""The processes as `make run` starts them, with LOG_FORMAT=json: one request's trace reaches
from the API process into the worker's SMTP send in DATA_DIR/traces.jsonl, and the log lines
of both processes (uvicorn's access line too) name that trace and the order. The API's spans
still batched when it is stopped are written before it ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.http_api import Api, ok
from tests.support.samples import BUYER, REVIEWER
from tests.support.smtp import SmtpSink
from tests.support.stack import ProcessStack, stack_settings
from workflows.client import connect

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30
# The worker's spans leave its batch every 100 ms instead of every 5 s; the API keeps the
# default, so its spans reach the file only when it stops (SIGTERM, as `make run` stops it).
QUICK_EXPORT = "100"


@pytest.fixture
async def json_stack(
    database_url: str,
    smtp_sink: SmtpSink,
    session_maker: async_sessionmaker[AsyncSession],  # the database migrated and seeded
    tmp_path: Path,
) -> AsyncIterator[tuple[Api, ProcessStack]]:
    settings = stack_settings(tmp_path, database_url, smtp_sink.port, "traces", log_format="json")
    stack = ProcessStack(settings, settings.data_dir / "logs")
    try:
        await asyncio.to_thread(stack.start_temporal)
        stack.start_worker(OTEL_BSP_SCHEDULE_DELAY=QUICK_EXPORT)
        await asyncio.to_thread(stack.start_api)
        base_url = f"http://127.0.0.1:{settings.api_port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield Api(http, await connect(settings), smtp_sink, settings), stack
    finally:
        await asyncio.to_thread(stack.stop)


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a file, one a line (the stack's own banner lines are not)."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


async def eventually(find: Callable[[], list[dict[str, Any]]], what: str) -> dict[str, Any]:
    for _ in range(WAIT_SECONDS * 10):
        found = find()
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"never found {what}")


async def test_one_request_is_one_trace_across_the_processes_and_their_logs(
    json_stack: tuple[Api, ProcessStack],
) -> None:
    api, stack = json_stack
    data_dir = api.settings.data_dir
    buyer, reviewer = await api.login(BUYER.username), await api.login(REVIEWER.username)
    order_no = (await api.place(buyer))["order_no"]
    path = f"/api/admin/orders/{order_no}/return"
    await ok(api.http.post(path, json={"reason": "抬头有误"}, headers=reviewer))

    traces = data_dir / "traces.jsonl"
    smtp = await eventually(
        lambda: [
            s
            for s in json_lines(traces)
            if s["name"] == "smtp send" and s["attributes"].get("shop.order_no") == order_no
        ],
        "the SMTP span",
    )
    trace_id = smtp["context"]["trace_id"]
    await asyncio.to_thread(stack.stop)
    request = await eventually(
        lambda: [
            s
            for s in json_lines(traces)
            if s["context"]["trace_id"] == trace_id and s["attributes"].get("url.path") == path
        ],
        "the request's span in the SMTP span's trace",
    )
    assert request["parent_id"] is None  # the request starts the trace
    services = {
        s["resource"]["attributes"]["service.name"]
        for s in json_lines(traces)
        if s["context"]["trace_id"] == trace_id
    }
    assert services == {"shop-orders-api", "shop-orders-worker"}

    plain_trace_id = trace_id.removeprefix("0x")
    access = await eventually(
        lambda: [
            e
            for e in json_lines(data_dir / "logs" / "api.log")
            if e["logger"] == "uvicorn.access" and e.get("path") == path
        ],
        "the access line of the request",
    )
    assert (access["trace_id"], access["order_no"], access["status"]) == (
        plain_trace_id,
        order_no,
        200,
    )
    sent = await eventually(
        lambda: [
            e
            for e in json_lines(data_dir / "logs" / "worker.log")
            if e["message"].startswith("sent order_returned") and e.get("order_no") == order_no
        ],
        "the worker's line about the e-mail sent",
    )
    assert sent["trace_id"] == plain_trace_id
    assert sent["activity"]["activity_type"] == "send_email"
