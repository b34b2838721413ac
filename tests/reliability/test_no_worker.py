"""The worker stopped (SIGSTOP) for longer than UPDATE_ACCEPT_TIMEOUT_SECONDS: a change
answers 503 not_accepted instead of waiting for the worker, health says degraded, and once
the worker runs again a retry with the same Idempotency-Key makes the change exactly once."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.reliability.driver import PROBLEM, Driver, Traffic, Walk
from tests.reliability.faults import FlakySmtp
from tests.reliability.report import Section
from tests.support.http_api import pages_client
from tests.support.samples import BUYER, REVIEWER
from tests.support.stack import running_stack, stack_settings

# Short, so the test waits little; the setting's default is 5 s.
ACCEPT_WITHIN_SECONDS = 1.5
# Health counts a poller as gone after api/worker_presence.POLLER_SILENCE (75 s): the
# worker stays stopped until health says so, or this long at most.
HEALTH_BUDGET_SECONDS = 240.0
PRODUCT = "JD0001"


def _not_accepted(response: httpx.Response, *, keyed: bool) -> dict[str, Any]:
    """The 503 of a change the workflow did not accept: problem+json, Retry-After, and a
    Chinese sentence saying what happened and what a retry does."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["Retry-After"]) >= 1
    problem = dict(response.json())
    assert problem["code"] == "not_accepted"
    assert "未受理这次操作" in problem["detail"]
    if keyed:
        assert "同一个 Idempotency-Key" in problem["detail"]
        assert "只会执行一次" in problem["detail"]
    return problem


async def _health(http: httpx.AsyncClient, wanted: str) -> tuple[int, dict[str, Any]]:
    """Health, asked until its status is ``wanted`` (it is cached for seconds, and a stopped
    worker counts as gone only once its last poll is old enough)."""
    deadline = asyncio.get_running_loop().time() + HEALTH_BUDGET_SECONDS
    while True:
        health = await http.get("/api/health")
        if health.json()["status"] == wanted or asyncio.get_running_loop().time() > deadline:
            return health.status_code, dict(health.json())
        await asyncio.sleep(2)


def _approvals(order: dict[str, Any]) -> int:
    return sum(1 for event in order["events"] if event["action"] == "approve")


async def test_stopped_worker_answers_503_not_accepted_and_a_retry_applies_once(
    report: Section,
    database_url: str,
    session_maker: async_sessionmaker[AsyncSession],  # the catalog and the demo accounts
    tmp_path: Path,
) -> None:
    """Worker stopped (SIGSTOP) longer than the bound on acceptance

    审核通过 and placing an order answer 503 not_accepted with Retry-After and a Chinese
    sentence instead of waiting; the page says so too; health says degraded. After the worker
    resumes, a retry with the same Idempotency-Key makes each change exactly once.
    """
    smtp = FlakySmtp().start()
    settings = stack_settings(
        tmp_path, database_url, smtp.port, "no-worker",
        update_accept_timeout_seconds=ACCEPT_WITHIN_SECONDS,
    )  # fmt: skip
    report.try_(
        f"UPDATE_ACCEPT_TIMEOUT_SECONDS={ACCEPT_WITHIN_SECONDS}; the worker SIGSTOPped, then "
        "审核通过 over the API and on the back-office page, and a placement, each sent once; "
        "health asked until it says degraded; then the worker SIGCONTed and each change sent "
        "again with the same Idempotency-Key (the page: clicked again)"
    )
    try:
        async with running_stack(settings) as stack:
            base_url = f"http://127.0.0.1:{settings.api_port}"
            pages = await pages_client(base_url, REVIEWER.username)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http, aclosing(pages):
                driver = Driver(http, Traffic())
                profile_id = await driver.profile(BUYER.username)
                by_api = Walk(driver, "no-worker-api", profile_id)
                by_page = Walk(driver, "no-worker-page", profile_id)
                placing = Walk(driver, "no-worker-place", profile_id)
                await by_api.place(PRODUCT)
                await by_page.place(PRODUCT)
                reviewer = await driver.login(REVIEWER.username)
                buyer = await driver.login(BUYER.username)
                approve_path = f"/api/admin/orders/{by_api.order_no}/approve"
                approve_key = {"Idempotency-Key": f"{by_api.tag}:approve"}
                place_body = placing.place_body(PRODUCT)
                place_key = {"Idempotency-Key": f"{placing.tag}:place"}
                page_path = f"/admin/orders/{by_page.order_no}/approve"

                stack.pause("worker")
                try:
                    approve = await http.post(approve_path, json={}, headers=reviewer | approve_key)
                    refused = _not_accepted(approve, keyed=True)
                    placed = await http.post(
                        "/api/orders", json=place_body, headers=buyer | place_key
                    )
                    _not_accepted(placed, keyed=True)
                    page = await pages.post(page_path, data={"platform_amount_yuan": ""})
                    health = await _health(http, "degraded")
                finally:
                    stack.resume("worker")
                report.count("审核通过 while stopped", f"{approve.status_code} {refused['detail']}")
                report.count("placement while stopped", str(placed.status_code))
                report.count("health while stopped", f"{health[0]} {health[1]}")

                # The page: back on the order with the sentence, the order unchanged.
                assert page.status_code == 200, page.text
                assert "未受理这次操作" in page.text and "Idempotency-Key" not in page.text
                assert "系统内部错误" not in page.text
                assert health == (
                    200,
                    {
                        "status": "degraded",
                        "database": "ok",
                        "temporal": "ok",
                        "task_queue": "no_pollers",
                    },
                )
                report.hold(
                    "审核通过 and the placement answered 503 not_accepted, problem+json with "
                    "Retry-After and a Chinese sentence: not accepted yet, safe to retry with "
                    "the same Idempotency-Key; the page showed the sentence above the order; "
                    "health said degraded (task_queue no_pollers), 200"
                )

                # The same requests again: each change made exactly once, whether or not the
                # first attempt was applied meanwhile (the driver retries 503 with the key).
                approved = await driver.call(
                    "POST", approve_path, reviewer, key=approve_key["Idempotency-Key"], json={}
                )
                again = await driver.call(
                    "POST", approve_path, reviewer, key=approve_key["Idempotency-Key"], json={}
                )
                assert approved["status"] == again["status"] == "approved"
                order = await driver.call("GET", f"/api/orders/{by_api.order_no}", buyer)
                assert _approvals(order) == 1

                first = await driver.call(
                    "POST", "/api/orders", buyer, key=place_key["Idempotency-Key"],
                    json=place_body, expect=(201,),
                )  # fmt: skip
                second = await driver.call(
                    "POST", "/api/orders", buyer, key=place_key["Idempotency-Key"],
                    json=place_body, expect=(201,),
                )  # fmt: skip
                assert first["order_no"] == second["order_no"]
                same_number = await driver.call(
                    "GET",
                    "/api/orders",
                    buyer,
                    params={"service_market_order_no": place_body["service_market_order_no"]},
                )
                assert same_number["total"] == 1
                assert [e["action"] for e in first["events"]].count("place") == 1

                # The page has no key: clicked again, it approves the order, or says it is
                # approved already (the first click applied meanwhile); one approval either way.
                clicked = await pages.post(page_path, data={"platform_amount_yuan": ""})
                assert clicked.status_code in (200, 422), clicked.text
                report.count(
                    "the page clicked again after the resume",
                    "approved by this click"
                    if clicked.status_code == 200
                    else "refused: the first click had applied meanwhile",
                )
                paged = await driver.call("GET", f"/api/orders/{by_page.order_no}", buyer)
                assert paged["status"] == "approved"
                assert _approvals(paged) == 1

                assert (await _health(http, "ok"))[1]["task_queue"] == "ok"
                report.hold(
                    "after the worker resumed: the approval retried with its key answered "
                    "approved, one 审核通过 in the order's 操作记录; the placement retried "
                    "with its key answered one order (one order with its service-market "
                    "number); the page clicked again left one approval; health ok again"
                )
    finally:
        smtp.stop()
