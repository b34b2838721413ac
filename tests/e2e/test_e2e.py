"""End to end over HTTP against the real dev server, worker, database and SMTP."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.http_api import Api
from tests.support.jd_example import walk_the_jd_example
from workflows.shop_order import ShopOrderWorkflow

pytestmark = pytest.mark.e2e


async def test_placed_order_is_in_the_list_and_in_temporal(e2e: Api) -> None:
    buyer = await e2e.login("leiliang")
    order = await e2e.place(buyer)
    listed = (
        await e2e.http.get("/api/orders", params={"order_no": order["order_no"]}, headers=buyer)
    ).json()
    assert [o["order_no"] for o in listed["items"]] == [order["order_no"]]
    assert listed["tab_counts"]["in_progress"] >= 1
    runs = [
        run.id
        async for run in e2e.temporal.list_workflows(
            f"ServiceMarketOrderNo='{order['service_market_order_no']}' AND OrderStatus='submitted'"
        )
    ]
    for _ in range(50):  # visibility is eventually consistent
        if runs:
            break
        await asyncio.sleep(0.2)
        runs = [
            run.id
            async for run in e2e.temporal.list_workflows(
                f"ServiceMarketOrderNo='{order['service_market_order_no']}'"
            )
        ]
    assert runs == [order["order_no"]]
    state = await e2e.temporal.get_workflow_handle(order["order_no"]).query(ShopOrderWorkflow.state)
    assert state.serial_no == order["transaction"]["serial_no"]


async def test_jd_example_end_to_end_with_emails(e2e: Api) -> None:
    order_no = await walk_the_jd_example(e2e)
    subjects: list[str] = []
    for _ in range(100):
        subjects = e2e.smtp.subjects(order_no)
        if len(subjects) >= 5:
            break
        await asyncio.sleep(0.1)
    assert any("被打回" in s for s in subjects)
    assert any("退款申请需要修改" in s for s in subjects)
    assert any("已同意退款" in s for s in subjects)
    assert any(s.endswith("已退款") for s in subjects)
    assert any("发票已寄送（中通 123123123）" in s for s in subjects)
    assert len(subjects) == len(set(subjects))
