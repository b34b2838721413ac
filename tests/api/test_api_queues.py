"""GET /api/admin/queues and ``overdue`` on list items, on an app whose time limits are one
second (SLA_*=PT1S), so work runs late while the test waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from settings import TIME_LIMIT_SETTINGS, Settings
from tests.support import jd_walk
from tests.support.http_api import Api, api_with_worker, ok, placed_jd_order, signed_in_pages
from tests.support.samples import BUYER, REVIEWER, unique
from tests.support.smtp import SmtpSink

QUEUES = ["review", "refund_review", "payout", "invoice_issue", "invoice_ship"]
LABELS = ["待审核", "待审核退款", "待打款", "待开票", "待寄送"]


@pytest.fixture(scope="module")
async def hurried(
    dev_server: WorkflowEnvironment,
    api_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
) -> AsyncIterator[Api]:
    """The API and a worker whose every time limit is a second."""
    limits = {name.lower(): "PT1S" for name in TIME_LIMIT_SETTINGS.values()}
    settings = api_settings.model_copy(update={**limits, "temporal_task_queue": unique("queues-")})
    async with api_with_worker(dev_server.client, settings, session_maker, smtp_sink) as api:
        yield api


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for the run to flag the work (its timer fires a second after the work began)."""
    for _ in range(150):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never became true: {what}")


async def _queues(api: Api) -> dict[str, tuple[int, int]]:
    answer = await api.http.get("/api/admin/queues", headers=await api.login(REVIEWER.username))
    assert answer.status_code == 200, answer.text
    body: list[dict[str, Any]] = answer.json()
    assert [q["queue"] for q in body] == QUEUES and [q["label"] for q in body] == LABELS
    return {q["queue"]: (q["count"], q["overdue"]) for q in body}


async def _items(api: Api, path: str, username: str, **params: str) -> list[dict[str, Any]]:
    page = await ok(api.http.get(path, params=params, headers=await api.login(username)))
    return list(page["items"])


async def test_queues_count_an_order_waiting_for_review_and_then_overdue(hurried: Api) -> None:
    before = await _queues(hurried)
    no = await placed_jd_order(hurried)

    async def overdue() -> bool:
        [order] = await _items(hurried, "/api/admin/orders", REVIEWER.username, order_no=no)
        return bool(order["overdue"])

    await _until(overdue, f"{no} 超时 in the back office's order list")
    after = await _queues(hurried)
    assert after["review"] == (before["review"][0] + 1, before["review"][1] + 1)
    # The buyer's own list does not show the back office's time limits.
    [mine] = await _items(hurried, "/api/orders", BUYER.username, order_no=no)
    assert mine["overdue"] is False

    await jd_walk.approve(hurried.send, no)
    reviewed = await _queues(hurried)
    assert reviewed["review"] == before["review"]
    [order] = await _items(hurried, "/api/admin/orders", REVIEWER.username, order_no=no)
    assert order["overdue"] is False


async def test_refunds_and_invoices_past_their_limits_are_overdue_in_their_lists(
    hurried: Api,
) -> None:
    no = await placed_jd_order(hurried)
    await jd_walk.refund_chosen(hurried.send, no)
    order = await ok(
        hurried.http.get(f"/api/orders/{no}", headers=await hurried.login(REVIEWER.username))
    )
    [invoice_app_no] = jd_walk.applied_invoices(order)

    async def invoice_overdue() -> bool:
        items = await _items(hurried, "/api/invoices", REVIEWER.username, order_no=no)
        return any(i["invoice_app_no"] == invoice_app_no and i["overdue"] for i in items)

    await _until(invoice_overdue, f"{invoice_app_no} 超时 (待开票)")
    buyer_invoices = await _items(hurried, "/api/invoices", BUYER.username, order_no=no)
    assert [i["overdue"] for i in buyer_invoices] == [False] * len(buyer_invoices)

    refund = await jd_walk.apply_refund(hurried.send, no)
    refund_id = refund["refund_id"]
    await jd_walk.record_settlement(hurried.send, no)

    async def refund_overdue() -> bool:
        [r] = await _items(hurried, "/api/refunds", REVIEWER.username, order_no=no)
        return bool(r["overdue"])

    await _until(refund_overdue, f"{refund_id} 超时 (待审核退款)")
    await jd_walk.agree_refund(hurried.send, refund_id)

    async def payout_overdue() -> bool:
        items = await _items(hurried, "/api/finance/refunds", "finance", page_size="100")
        return any(r["refund_id"] == refund_id and r["overdue"] for r in items)

    await _until(payout_overdue, f"{refund_id} 超时 (待打款)")
    counts = await _queues(hurried)
    assert counts["payout"][1] >= 1 and counts["invoice_issue"][1] >= 1


@pytest.mark.parametrize("username", [BUYER.username, "finance"])
async def test_queues_are_refused_to_all_but_reviewers(hurried: Api, username: str) -> None:
    answer = await hurried.http.get("/api/admin/queues", headers=await hurried.login(username))
    assert answer.status_code == 403


async def test_back_office_home_shows_each_queue_and_the_overdue_badge(hurried: Api) -> None:
    no = await placed_jd_order(hurried)

    async def overdue() -> bool:
        [order] = await _items(hurried, "/api/admin/orders", REVIEWER.username, order_no=no)
        return bool(order["overdue"])

    await _until(overdue, f"{no} 超时")
    counts = await _queues(hurried)
    pages = await signed_in_pages(hurried, REVIEWER.username)
    # The 待审核 link: the orders waiting for review, this one among them.
    home = await pages.get("/admin/orders", params={"status": "submitted", "order_no": no})
    assert home.status_code == 200
    html = home.text
    assert "待办队列" in html
    for label in LABELS:
        assert label in html
    review_count, review_overdue = counts["review"]
    assert f'href="/admin/orders?status=submitted">待审核</a></td><td>{review_count}</td>' in html
    assert f"超时 {review_overdue}</span>" in html
    row = html[html.index(f'<a href="/admin/orders/{no}">') :]
    assert (
        '<span class="badge overdue" title="已超过处理时限">超时</span>'
        in row[: row.index("</tr>")]
    )
