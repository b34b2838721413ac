"""The worker SIGKILLed at random moments while many orders are driven through their
lifecycle, then restarted."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.reliability.driver import PATHS, Driver, Traffic, Walk
from tests.reliability.faults import FlakySmtp
from tests.reliability.report import Section
from tests.reliability.verification import verify_all
from tests.support.stack import running_stack, stack_settings
from workflows.client import connect

ORDERS_PER_PATH = 5
KILLS = 5
CONCURRENCY = 10
SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.randrange(1, 10**6)


async def test_worker_sigkilled_at_random_moments_loses_and_repeats_nothing(
    report: Section,
    database_url: str,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """Worker SIGKILLed at random moments while orders are driven

    Every order still reaches the end of its path, no e-mail and no payout is recorded twice,
    and the database agrees with each workflow's state.
    """
    rng = random.Random(SEED)
    smtp = FlakySmtp().start()
    settings = stack_settings(tmp_path, database_url, smtp.port, "reliability")
    names = [name for name in PATHS for _ in range(ORDERS_PER_PATH)]
    rng.shuffle(names)
    report.try_(
        f"{len(names)} orders over {len(PATHS)} paths ({', '.join(PATHS)}), {CONCURRENCY} "
        "driven at a time over HTTP by clients that retry a 503 with the same Idempotency-Key"
    )
    report.try_(
        f"the worker SIGKILLed {KILLS} times at random moments (random seed {SEED}; "
        "RELIABILITY_SEED repeats a run) and restarted after 0.2-1.5 s"
    )
    try:
        async with running_stack(settings) as stack:
            temporal = await connect(settings)
            base_url = f"http://127.0.0.1:{settings.api_port}"
            traffic = Traffic()
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                driver = Driver(http, traffic)
                profile_id = await driver.profile("leiliang")
                walks = [
                    (Walk(driver, f"w{SEED}-{i}-{name}", profile_id), name)
                    for i, name in enumerate(names)
                ]
                driving = asyncio.Semaphore(CONCURRENCY)
                remaining = len(walks)

                async def drive(walk: Walk, name: str) -> None:
                    nonlocal remaining
                    async with driving:
                        await PATHS[name][0](walk)
                    remaining -= 1

                kill_moments: list[float] = []
                started = time.monotonic()

                async def killer() -> None:
                    while len(kill_moments) < KILLS and remaining:
                        await asyncio.sleep(rng.uniform(0.8, 3.0))
                        if not remaining:
                            break
                        stack.kill("worker")
                        kill_moments.append(time.monotonic() - started)
                        await asyncio.sleep(rng.uniform(0.2, 1.5))
                        stack.restart("worker")

                killing = asyncio.create_task(killer())
                await asyncio.gather(*(drive(walk, name) for walk, name in walks))
                driven = time.monotonic() - started
                await killing
            assert len(kill_moments) >= 3, f"only {len(kill_moments)} kills landed while driving"
            report.count("orders driven to the end of their path", len(walks))
            report.count("worker SIGKILLs (while orders were moving)", len(kill_moments))
            report.count(
                "kill moments (s after the first order)",
                ", ".join(f"{m:.1f}" for m in kill_moments),
            )
            report.count("HTTP requests", traffic.requests)
            report.count("answers 503, retried with the same key", traffic.retried)
            report.count("seconds to drive every order", f"{driven:.0f}")
            assert traffic.server_errors == []
            assert traffic.not_problem_json == []
            report.hold("no answer was a 5xx other than 503, and every error was problem+json")

            expected = {walk.order_no: PATHS[name][1] for walk, name in walks}
            checked = await verify_all(temporal, session_maker, smtp, expected, 90)
            report.count("state transitions checked against the database", checked.transitions)
            report.count("e-mails in the outbox, each checked against delivery", checked.mails)
            report.count("payouts in the ledger", checked.payouts)
            report.count("activity attempts retried after a kill", checked.activity_retries)
            report.count(
                "workflow tasks lost with a killed worker (timed out)",
                checked.workflow_task_timeouts,
            )
            report.count(
                "e-mails delivered a second time (same Message-ID)", checked.mail_duplicates
            )
            assert checked.problems == []
            assert checked.mail_duplicates <= len(kill_moments)
            report.hold(
                "every order reached the status, invoices and refund its path ends in; voided "
                "runs completed, the others wait for their deadline"
            )
            report.hold(
                "each order's projection (row, invoices, refund, refund log, audit events) "
                "equals the workflow's state, version for version"
            )
            report.hold(
                "one payout row per refunded order with the paid amount and bank reference, "
                "one 已退款 entry in its refund log"
            )
            report.hold(
                "each e-mail occasion is one outbox row, sent; any second delivery carried the "
                "same Message-ID (receivers drop it)"
            )
            report.hold("no workflow task failed (no non-determinism after restarts)")
            report.note(
                "SMTP has no exactly-once: a kill between the SMTP server's 250 and the commit "
                "of the outbox row sends the e-mail again on retry. The window is milliseconds "
                "wide; every copy carries the outbox key's Message-ID, so receivers drop it, "
                "and the test allows at most one such copy per kill"
            )
    finally:
        smtp.stop()
