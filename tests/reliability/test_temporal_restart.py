"""The Temporal dev server SIGKILLed mid-run and restarted on its file database: orders carry
on, and deadlines that fell due while it was down fire after the restart."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from db import models
from devstack.processes import free_port
from domain.order import OrderState
from domain.steps.deadline import OVERDUE_VOID_REASON
from tests.reliability.driver import PATHS, Driver, Expected, Traffic, Walk
from tests.reliability.faults import FlakySmtp
from tests.reliability.report import Section
from tests.reliability.verification import verify_all
from tests.support import jd_walk
from tests.support.samples import ENTERPRISE_REFUND_FORM
from tests.support.stack import running_stack, stack_settings
from workflows.client import connect
from workflows.shop_order import ShopOrderWorkflow

SHORT_TERM = "PT30S"
DRIVEN_PER_PATH = 2
# Seconds the deadline must still be away when the server dies, so that it falls due while
# the server is down rather than just before.
MARGIN = 3.0


async def submitted(walk: Walk) -> None:
    await walk.place("JSFW0001")


async def approved(walk: Walk) -> None:
    await walk.place("JSFW0001")
    await walk.approve()


async def no_decision(walk: Walk) -> None:
    await walk.place("JD0001")
    await walk.approve()
    await jd_walk.confirm_receipt(walk, walk.order_no)


async def refund_not_filed(walk: Walk) -> None:
    await no_decision(walk)
    await jd_walk.decide_refund(walk, walk.order_no)


async def refund_filed(walk: Walk) -> None:
    await refund_not_filed(walk)
    await jd_walk.apply_refund(walk, walk.order_no, ENTERPRISE_REFUND_FORM)


async def refund_only_undecided(walk: Walk) -> None:
    await walk.place("DY0001")
    await walk.approve()


# Orders left waiting for their deadline, and where the deadline takes each (DOMAIN.md §4).
WAITING = {
    "submitted → voided 逾期未审核": (
        submitted,
        Expected("voided", (), None, False, ("order_voided",), run_ends=True),
    ),
    "approved → receipt confirmed, invoiced": (
        approved,
        Expected("completed", ("applied",), None, False, ("auto_invoice",)),
    ),
    "no refund decision → 不退款, invoiced": (
        no_decision,
        Expected("completed", ("applied", "applied"), None, False, ("auto_invoice",)),
    ),
    "退款 chosen, not filed → expired, invoiced": (
        refund_not_filed,
        Expected("completed", ("applied", "applied"), "expired", False, ("auto_invoice",)),
    ),
    "refund filed → left to finish": (
        refund_filed,
        Expected("completed", ("applied", "pending"), "applied", False, ()),
    ),
    "refund-only, undecided → 不退款, invoiced": (
        refund_only_undecided,
        Expected("completed", ("applied",), None, False, ("auto_invoice",)),
    ),
}


async def test_temporal_server_killed_mid_run_orders_and_timers_carry_on(
    report: Section,
    database_url: str,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """Temporal dev server SIGKILLed mid-run and restarted

    Every order carries on after the restart, and every pending timer too: a one-year
    deadline that fell due while the server was down fires once it is back, with the
    outcome DOMAIN.md §4 gives it.
    """
    smtp = FlakySmtp().start()
    settings = stack_settings(tmp_path, database_url, smtp.port, "reliability")
    report.try_(
        f"{len(WAITING) * 2} orders placed through an API with SERVICE_TERM={SHORT_TERM} and "
        "left in every state the deadline treats differently"
    )
    report.try_(
        f"{len(PATHS) * DRIVEN_PER_PATH} orders (one-year term) driven through their whole "
        "path over HTTP at the same time"
    )
    report.try_(
        "the dev server SIGKILLed while both were under way and kept down until every "
        "short deadline had passed, then started again on the same --db-filename"
    )
    try:
        async with running_stack(settings) as stack:
            short_port = free_port()
            await asyncio.to_thread(
                stack.start_api, "api-short", short_port, SERVICE_TERM=SHORT_TERM
            )
            temporal = await connect(settings)
            traffic = Traffic()
            async with (
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{settings.api_port}", timeout=60
                ) as http,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{short_port}", timeout=60) as short,
            ):
                driver, short_driver = Driver(http, traffic), Driver(short, traffic)
                profile_id = await driver.profile("leiliang")
                waiting = [
                    (Walk(short_driver, f"t-{i}-{n}", profile_id), label)
                    for n, label in enumerate(WAITING)
                    for i in range(2)
                ]
                await asyncio.gather(*(WAITING[label][0](walk) for walk, label in waiting))
                ends = {}
                for walk, _ in waiting:
                    state = await temporal.get_workflow_handle(walk.order_no).query(
                        ShopOrderWorkflow.state
                    )
                    ends[walk.order_no] = state.service_end_at
                driven = [
                    (Walk(driver, f"d-{i}-{name}", profile_id), name)
                    for name in PATHS
                    for i in range(DRIVEN_PER_PATH)
                ]
                driving = [asyncio.create_task(PATHS[name][0](walk)) for walk, name in driven]
                await asyncio.sleep(1.5)  # the driven orders are mid-way now

                earliest = min(ends.values())
                killed_at = datetime.now(UTC)
                stack.kill("temporal")
                assert killed_at < earliest - timedelta(seconds=MARGIN), (
                    "the orders took too long to set up: their deadline would not fall due "
                    "while the server is down"
                )
                down = time.monotonic()
                late_placement = Walk(driver, "t-late", profile_id)
                probes = await _probes_while_down(late_placement)
                latest = max(ends.values())
                past_all = latest + timedelta(seconds=2) - datetime.now(UTC)
                await asyncio.sleep(max(past_all.total_seconds(), 0))
                restarted_at = datetime.now(UTC)
                ready_in = await stack.restart_temporal()
                downtime = time.monotonic() - down
                revived = stack.revive_dead()
                await asyncio.gather(*driving)
                # The placement refused while down, retried with its key: one order.
                await late_placement.place("JSFW0001")

                expected = {w.order_no: WAITING[label][1] for w, label in waiting} | {
                    w.order_no: PATHS[name][1] for w, name in driven
                }
                expected[late_placement.order_no] = Expected("submitted", (), None, False, ())
                await _until_deadlines_passed(temporal, [w.order_no for w, _ in waiting])
                checked = await verify_all(temporal, session_maker, smtp, expected, 60)
                fired_late = await _deadline_timers_fired_after(
                    temporal, [w.order_no for w, _ in waiting], restarted_at
                )
                voided = [
                    await temporal.get_workflow_handle(w.order_no).query(ShopOrderWorkflow.state)
                    for w, label in waiting
                    if label.startswith("submitted")
                ]

            report.count("orders waiting for a deadline", len(waiting))
            report.count("orders driven through the outage", len(driven))
            report.count("seconds the server was down", f"{downtime:.0f}")
            report.count("seconds from restart to a ready server", f"{ready_in:.1f}")
            report.count("deadlines that fell due while down", len(waiting))
            report.count("HTTP requests", traffic.requests)
            report.count("answers 503 while down, retried with the same key", traffic.retried)
            report.count("processes that died with the server (restarted)", len(revived))
            report.count("state transitions checked against the database", checked.transitions)
            report.count("e-mails checked", checked.mails)
            for name, value in probes.items():
                report.count(name, value)
            assert traffic.server_errors == [] and traffic.not_problem_json == []
            report.hold(
                "while the server was down every change answered 503 problem+json, never 500; reads from the database went on"
            )
            assert checked.problems == []
            report.hold(
                "every driven order reached the end of its path; the database agrees with each "
                "workflow; no e-mail or payout recorded twice; no workflow task failed"
            )
            async with session_maker() as session:
                late_orders = await session.scalar(
                    select(func.count()).where(
                        models.Order.placement_key == f"{late_placement.tag}:place"
                    )
                )
            assert late_orders == 1
            report.hold(
                "a placement refused with 503 while the server was down, retried with the same "
                "Idempotency-Key after the restart, made exactly one order"
            )
            assert fired_late == len(waiting)
            assert all(s.void_reason == OVERDUE_VOID_REASON for s in voided)
            report.hold(
                "every deadline timer fired after the restart (its TimerFired event is later "
                "than the restart), and each order took the outcome DOMAIN.md §4 gives its "
                "state: voided 逾期未审核, receipt confirmed, 不退款, refund expired, or a filed "
                "refund left to finish; one automatic-invoice e-mail each"
            )
    finally:
        smtp.stop()


async def _probes_while_down(walk: Walk) -> dict[str, str]:
    """What the API answers while Temporal is gone: health and a placement 503 (problem+json),
    reads from the database 200."""
    http = walk.driver.http
    buyer = await walk.as_buyer()
    health = await http.get("/api/health")
    assert health.status_code == 503 and health.json()["temporal"] == "unavailable"
    listed = await http.get("/api/orders", headers=buyer)
    assert listed.status_code == 200
    started = time.monotonic()
    placed = await http.post(
        "/api/orders",
        json=walk.place_body("JSFW0001"),
        headers=buyer | {"Idempotency-Key": f"{walk.tag}:place"},
    )
    assert placed.status_code == 503, placed.text
    assert placed.headers["content-type"] == "application/problem+json"
    return {
        "GET /api/health while down": f"{health.status_code} {health.json()}",
        "GET /api/orders while down": str(listed.status_code),
        "POST /api/orders while down": (
            f"{placed.status_code} after {time.monotonic() - started:.1f} s"
        ),
    }


async def _until_deadlines_passed(temporal: Client, order_nos: list[str]) -> None:
    for _ in range(120):
        states: list[OrderState] = [
            await temporal.get_workflow_handle(no).query(ShopOrderWorkflow.state)
            for no in order_nos
        ]
        if all(s.deadline_passed for s in states):
            return
        await asyncio.sleep(0.5)


async def _deadline_timers_fired_after(
    temporal: Client, order_nos: list[str], restarted_at: datetime
) -> int:
    """How many of the runs had their deadline timer fire after the restart."""
    late = 0
    for order_no in order_nos:
        handle = temporal.get_workflow_handle(order_no)
        fired = [
            event.event_time.ToDatetime(tzinfo=UTC)
            async for event in handle.fetch_history_events()
            if event.HasField("timer_fired_event_attributes")
        ]
        late += bool(fired) and fired[-1] >= restarted_at
    return late
