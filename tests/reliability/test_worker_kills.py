"""The worker SIGKILLed several times and the API once while a hundred orders are driven
through their lifecycle, 32 at a time; each process restarted after it was killed."""

from __future__ import annotations

import asyncio
import dataclasses
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
from tests.support.stack import ProcessStack, running_stack, stack_settings
from workflows.client import connect

ORDERS_PER_PATH = 20
CONCURRENCY = 32
WORKER_KILLS = 5
SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.randrange(1, 10**6)


@dataclasses.dataclass
class Kill:
    process: str
    at: float  # seconds after the first order
    done: int  # orders at the end of their path by then
    in_flight: int  # requests sent and not yet answered at that moment
    down: float  # seconds until it was started again (until healthy, for the API)
    wall: float  # the moment of the kill in epoch seconds, as the SMTP catcher stamps mail


def kill_plan(rng: random.Random, orders: int) -> list[tuple[str, int]]:
    """(process, kill once this many orders are done): the kills spread evenly over the run,
    a little jitter each, the API's somewhere in the middle, never before the first order is
    under way nor after the last few are."""
    names = ["worker"] * WORKER_KILLS
    names.insert(rng.randint(2, WORKER_KILLS - 2), "api")
    step = orders / (len(names) + 1)
    return [
        (name, max(0, int(step * (i + 1) + rng.uniform(-step / 3, step / 3))))
        for i, name in enumerate(names)
    ]


async def kill_on_plan(
    stack: ProcessStack,
    traffic: Traffic,
    rng: random.Random,
    plan: list[tuple[str, int]],
    done: list[int],
    total: int,
    started: float,
) -> list[Kill]:
    """Kill each process of the plan when its moment comes, only while requests are in
    flight, and start it again after a random pause; stops early if the orders are done."""
    kills: list[Kill] = []
    for name, after in plan:
        while done[0] < total:
            if done[0] >= after and traffic.in_flight:
                break
            await asyncio.sleep(0.05)
        else:
            break  # every order got to its end before this kill's moment
        in_flight = traffic.in_flight
        if name == "api":
            traffic.cut()
        stack.kill(name)
        at, wall = time.monotonic() - started, time.time()
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        if name == "api":
            await stack.restart_api()
        else:
            stack.restart(name)
        down = time.monotonic() - started - at
        kills.append(Kill(name, at, done[0], in_flight, down, wall))
    return kills


async def test_worker_and_api_sigkilled_under_load_lose_and_repeat_nothing(
    report: Section,
    database_url: str,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """Worker and API SIGKILLed while a hundred orders are driven, 32 at a time

    Every order still reaches the end of its path with one change per request, no order,
    e-mail, payout or number is recorded twice, and the database agrees with each workflow's
    state; requests the API's death cut off are answered once retried with the same key.
    """
    rng = random.Random(SEED)
    smtp = FlakySmtp().start()
    settings = stack_settings(tmp_path, database_url, smtp.port, "reliability")
    names = [name for name in PATHS for _ in range(ORDERS_PER_PATH)]
    rng.shuffle(names)
    plan = kill_plan(rng, len(names))
    report.try_(
        f"{len(names)} orders over {len(PATHS)} paths ({', '.join(PATHS)}), {CONCURRENCY} "
        "driven at a time over HTTP by clients that send a request again with the same "
        "Idempotency-Key after a 502/503/504 (waiting its Retry-After, at most 5 s) or a "
        "connection that failed without an answer"
    )
    report.try_(
        f"the worker SIGKILLed {WORKER_KILLS} times and the API once, each while requests were "
        f"in flight, spread over the run (random seed {SEED}; RELIABILITY_SEED repeats a run); "
        "each restarted after 0.2-1.5 s"
    )
    try:
        async with running_stack(settings) as stack:
            temporal = await connect(settings)
            base_url = f"http://127.0.0.1:{settings.api_port}"
            traffic = Traffic()
            limits = httpx.Limits(max_connections=CONCURRENCY * 2)
            async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
                driver = Driver(http, traffic)
                profile_id = await driver.profile("leiliang")
                walks = [
                    (Walk(driver, f"w{SEED}-{i}-{name}", profile_id), name)
                    for i, name in enumerate(names)
                ]
                driving = asyncio.Semaphore(CONCURRENCY)
                done = [0]

                async def drive(walk: Walk, name: str) -> None:
                    async with driving:
                        await PATHS[name][0](walk)
                    done[0] += 1

                started = time.monotonic()
                killing = asyncio.create_task(
                    kill_on_plan(stack, traffic, rng, plan, done, len(walks), started)
                )
                await asyncio.gather(*(drive(walk, name) for walk, name in walks))
                driven = time.monotonic() - started
                kills = await killing
            worker_kills = [k for k in kills if k.process == "worker"]
            api_kills = [k for k in kills if k.process == "api"]
            report.count("orders driven to the end of their path", len(walks))
            report.count("orders driven at a time", CONCURRENCY)
            report.count("worker SIGKILLs (each with requests in flight)", len(worker_kills))
            report.count("API SIGKILLs (each with requests in flight)", len(api_kills))
            report.count(
                "kills: process at s after the first order (orders done, requests in flight)",
                ", ".join(f"{k.process} {k.at:.1f} ({k.done}, {k.in_flight})" for k in kills),
            )
            report.count(
                "seconds the API was away (killed to healthy again)",
                ", ".join(f"{k.down:.1f}" for k in api_kills),
            )
            report.count("HTTP requests", traffic.requests)
            report.count(
                "answers 502/503/504, retried with the same key",
                sum(traffic.statuses[s] for s in (502, 503, 504)),
            )
            report.count("of those, waited as their Retry-After said", traffic.retry_after_honoured)
            report.count("connections refused while the API was down, retried", traffic.refused)
            report.count("requests cut off by the API's death, retried", traffic.interrupted)
            report.count("requests answered as expected after being cut off", traffic.recovered)
            report.count("seconds to drive every order", f"{driven:.0f}")
            # Not vacuous: every kill landed with orders still moving and requests in flight,
            # and the API's death cut requests off that a retry with the same key then settled.
            assert len(worker_kills) == WORKER_KILLS and len(api_kills) == 1, kills
            assert all(k.in_flight > 0 and k.done < len(walks) for k in kills), kills
            assert traffic.interrupted > 0, "the API's death interrupted no request"
            assert traffic.recovered > 0
            assert stack.kills == {"worker": WORKER_KILLS, "api": 1}
            report.hold(
                "every kill landed while orders were moving and requests were in flight; the "
                "API's death cut requests off, and each was answered once retried"
            )
            assert traffic.server_errors == []
            assert traffic.not_problem_json == []
            report.hold("no answer was a 5xx other than 502/503/504, every error was problem+json")

            expected = {
                walk.order_no: dataclasses.replace(PATHS[name][1], changes=walk.changes)
                for walk, name in walks
            }
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
                "e-mails delivered a second time (same Message-ID, a worker kill between)",
                checked.mail_duplicates,
            )
            assert checked.problems == []
            # A second copy is only ever a retry after a crash: a worker kill lies between
            # the first copy and the last.
            unexplained = [
                key
                for key, first, last in checked.duplicate_spans
                if not any(first <= k.wall <= last for k in worker_kills)
            ]
            assert unexplained == [], f"sent twice with no worker kill in between: {unexplained}"
            report.hold(
                "every order reached the status, invoices and refund its path ends in; voided "
                "runs completed, the others wait for their deadline"
            )
            report.hold(
                "one version per change asked: no retried request, cut off or answered 503, "
                "was applied twice; one order per placing request"
            )
            report.hold(
                "each order's projection (row, invoices, refund, refund log, audit events) "
                "equals the workflow's state, version for version"
            )
            report.hold(
                "one payout row per refunded order with the paid amount and bank reference, "
                "one 已退款 entry in its refund log; serial numbers, invoice application "
                "numbers, invoice numbers and payout references each given once"
            )
            report.hold(
                "each e-mail occasion is one outbox row, sent; any second delivery carried the "
                "same Message-ID (receivers drop it)"
            )
            report.hold("no workflow task failed (no non-determinism after restarts)")
            report.note(
                "SMTP has no exactly-once: a worker kill between the SMTP server's 250 and the "
                "commit of the outbox row sends the e-mail again on retry. Every copy carries "
                "the outbox key's Message-ID, so receivers drop it; the test allows a second "
                "copy only when a worker kill lies between the first copy and the last. With "
                "32 orders moving, several e-mails can be inside that window at one kill"
            )
    finally:
        smtp.stop()
