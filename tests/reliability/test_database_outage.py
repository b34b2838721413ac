"""PostgreSQL unreachable for a while, first from the worker, then from the API too: the API
answers 503 (never 500), activities retry with backoff, nothing is lost once it is back."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities import contracts
from db import models
from db.engine import make_engine, make_sessionmaker
from devstack.processes import free_port
from tests.reliability.driver import Driver, Expected, Traffic, Walk
from tests.reliability.faults import FlakySmtp, TcpProxy
from tests.reliability.report import Section
from tests.reliability.route_access import DUMMY, WHO, allowed, credentials
from tests.reliability.verification import failed_attempts_logged, verify_all
from tests.support import jd_walk
from tests.support.http_api import Api
from tests.support.samples import PDF, PROFILE, REFUND_FORM, order_body
from tests.support.stack import running_stack, stack_settings
from workflows.client import connect

WORKER_ONLY_SECONDS = 5.0
BOTH_SECONDS = 7.0


# Bodies that pass validation, so the request reaches the database.
BODIES: dict[str, dict[str, Any]] = {
    "/api/invoice-profiles": PROFILE,
    "/api/invoice-profiles/{profile_id}": PROFILE,
    "/api/orders": order_body(1),
    "/api/orders/{order_no}": {"shop_name": "店"},
    "/api/orders/{order_no}/refund-decision": {"decision": "refund"},
    "/api/invoices/{invoice_app_no}": {"title": "公司"},
    "/api/admin/orders/{order_no}/return": {"reason": "原因"},
    "/api/admin/orders/{order_no}/void": {"reason": "原因"},
    "/api/admin/refunds/{refund_id}/return": {"reason": "原因"},
    "/api/admin/invoices/{invoice_app_no}/issue": {"invoice_number": "FP1"},
    "/api/admin/invoices/{invoice_app_no}/ship": {"courier": "中通", "tracking_no": "1"},
    "/api/admin/invoices/{invoice_app_no}/return": {"reason": "原因"},
    "/api/finance/refunds/{refund_id}/payout": {"amount_fen": 1, "bank_reference": "B"},
    "/codec/decode": {"payloads": []},
}


def _through(url: str, proxy: TcpProxy) -> str:
    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


async def _agreed_refund(walk: Walk) -> str:
    await walk.place("JD0001")
    refund = await jd_walk.refund_agreed(walk, walk.order_no)
    return str(refund["refund_id"])


async def test_database_unreachable_api_answers_503_and_nothing_is_lost(
    report: Section,
    database_url: str,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """PostgreSQL unreachable for a while

    The API answers 503 problem+json (never 500) while it cannot reach the database,
    activities retry with growing pauses, and every change that was under way or retried
    lands exactly once when the database is back.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): a network database to take away")
    upstream = make_url(database_url)
    worker_proxy = TcpProxy(upstream.host or "127.0.0.1", upstream.port or 5432).start()
    api_proxy = TcpProxy(upstream.host or "127.0.0.1", upstream.port or 5432).start()
    smtp = FlakySmtp().start()
    settings = stack_settings(tmp_path, _through(database_url, api_proxy), smtp.port, "reliability")
    report.try_(
        "worker and API reach PostgreSQL through TCP proxies of the test; cutting one stops "
        "it listening and resets every open connection (as a crashed server or dropped network)"
    )
    report.try_(
        f"the worker's database cut for {WORKER_ONLY_SECONDS + BOTH_SECONDS:.0f} s while 5 "
        "changes were under way (3 approvals, a return with its e-mail, a payout); the API's "
        f"cut as well for the last {BOTH_SECONDS:.0f} s, while every kind of request was sent"
    )
    try:
        async with running_stack(
            settings,
            worker_env={"DATABASE_URL": _through(database_url, worker_proxy), "LOG_FORMAT": "json"},
        ) as stack:
            del stack  # nothing is killed here; the proxies make the fault
            temporal = await connect(settings)
            traffic = Traffic()
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{settings.api_port}", timeout=60
            ) as http:
                driver = Driver(http, traffic)
                profile_id = await driver.profile("leiliang")
                approvals = [Walk(driver, f"db-approve-{i}", profile_id) for i in range(3)]
                returned = Walk(driver, "db-return", profile_id)
                paid = Walk(driver, "db-payout", profile_id)
                late = Walk(driver, "db-late", profile_id)
                for walk in [*approvals, returned]:
                    await walk.place("JSFW0001")
                refund_id = await _agreed_refund(paid)
                reviewer = await driver.login("bmp")
                buyer = await driver.login("leiliang")

                worker_proxy.cut()
                cut_at = time.monotonic()
                under_way = [asyncio.create_task(walk.approve()) for walk in approvals] + [
                    asyncio.create_task(
                        returned.staff(
                            "bmp",
                            f"/api/admin/orders/{returned.order_no}/return",
                            "return",
                            {"reason": "店铺名称有误"},
                        )
                    ),
                    asyncio.create_task(
                        paid.staff(
                            "finance",
                            f"/api/finance/refunds/{refund_id}/payout",
                            "payout",
                            {"amount_fen": 100_000, "bank_reference": "B-OUTAGE-1"},
                        )
                    ),
                ]
                await asyncio.sleep(WORKER_ONLY_SECONDS)
                api_proxy.cut()
                probes = await _probe_every_kind(http, buyer, reviewer, late, approvals[0].order_no)
                await asyncio.sleep(
                    max(0.0, WORKER_ONLY_SECONDS + BOTH_SECONDS - (time.monotonic() - cut_at))
                )
                api_proxy.restore()
                worker_proxy.restore()
                restored_at = time.monotonic()
                await asyncio.gather(*under_way)
                landed_after = time.monotonic() - restored_at
                await late.place("JSFW0001")  # the placement refused during the outage

                expected: dict[str, Expected] = {
                    w.order_no: Expected("approved", (), None, False, ()) for w in approvals
                }
                expected[returned.order_no] = Expected(
                    "returned", (), None, False, ("order_returned",)
                )
                expected[paid.order_no] = Expected(
                    "completed",
                    ("applied", "cancelled"),
                    "refunded",
                    True,
                    ("refund_agreed", "refund_paid"),
                )
                expected[late.order_no] = Expected("submitted", (), None, False, ())
                checked = await verify_all(temporal, session_maker, smtp, expected, 60)
                async with session_maker() as session:
                    late_orders = await session.scalar(
                        select(func.count()).where(
                            models.Order.placement_key == f"{late.tag}:place"
                        )
                    )

            for name, (status, detail) in probes.items():
                report.count(f"{name} while the database was down", f"{status} {detail}")
            pauses = [
                round(pause, 1)
                for pause in failed_attempts_logged(
                    settings.data_dir / "logs" / "worker.log",
                    approvals[0].order_no,
                    contracts.SAVE_CHANGE,
                )
            ]
            report.count(
                "failed attempts of an approval's projection write while down", len(pauses) + 1
            )
            report.count("pause after each failed attempt (s)", ", ".join(f"{p:g}" for p in pauses))
            report.count("answers 503, retried with the same key", traffic.retried)
            report.count(
                "seconds from the database's return until every change landed",
                f"{landed_after:.1f}",
            )
            report.count("TCP connections reset by the cuts", worker_proxy.reset + api_proxy.reset)
            report.count("state transitions checked against the database", checked.transitions)

            assert all(status == 503 for status, _ in probes.values()), probes
            assert traffic.server_errors == [] and traffic.not_problem_json == []
            report.hold(
                "every request that needed the database answered 503 problem+json while it was "
                "down (health names the database); none answered 500"
            )
            assert len(pauses) >= 3, pauses
            assert pauses[0] >= 1 and all(b > a for a, b in itertools.pairwise(pauses))
            report.hold(
                "the projection write (a local activity) was retried while the database was away, each pause "
                "longer than the one before (1 s, then doubling up to a minute)"
            )
            assert checked.problems == []
            assert late_orders == 1
            report.hold(
                "every change under way when the database went landed once it was back: three "
                "approvals, the return with one e-mail, the payout with one ledger row; the "
                "database agrees with every workflow"
            )
            report.hold(
                "the placement refused with 503 during the outage, retried with its key "
                "afterwards, made one order"
            )
    finally:
        smtp.stop()
        worker_proxy.close()
        api_proxy.close()


async def _probe_every_kind(
    http: httpx.AsyncClient,
    buyer: dict[str, str],
    reviewer: dict[str, str],
    late: Walk,
    order_no: str,
) -> dict[str, tuple[int, str]]:
    """One request of each kind, while the API cannot reach the database."""
    requests: dict[str, Any] = {
        "GET /api/health": http.get("/api/health"),
        "POST /api/auth/token": http.post(
            "/api/auth/token", data={"username": "leiliang", "password": "demo"}
        ),
        "GET /api/orders": http.get("/api/orders", headers=buyer),
        "GET /api/orders/{order_no}": http.get(f"/api/orders/{order_no}", headers=buyer),
        "GET /api/admin/orders": http.get("/api/admin/orders", headers=reviewer),
        "POST /api/orders": http.post(
            "/api/orders",
            json=late.place_body("JSFW0001"),
            headers=buyer | {"Idempotency-Key": f"{late.tag}:place"},
        ),
        "POST /api/invoice-profiles": http.post(
            "/api/invoice-profiles", json=PROFILE, headers=buyer
        ),
        "POST /api/admin/orders/{order_no}/void": http.post(
            f"/api/admin/orders/{order_no}/void", json={"reason": "测试"}, headers=reviewer
        ),
        "GET /api/catalog/products": http.get("/api/catalog/products"),
    }
    answers = {}
    for name, request in requests.items():
        response = await request
        problem = response.headers.get("content-type") == "application/problem+json"
        body = response.json()
        detail = (
            f"{body.get('database')}"
            if name == "GET /api/health"
            else ("problem+json" if problem else response.text[:80])
        )
        answers[name] = (response.status_code, detail)
    return answers


async def test_every_route_answers_503_not_500_when_the_database_is_unreachable(
    api: Api, session_maker: async_sessionmaker[AsyncSession], report: Section
) -> None:
    """Every API route with its database unreachable

    The API built over a database nobody listens on (connection refused), Temporal up: every
    route that needs the database answers 503 problem+json, none answers 500. Runs on every
    database (it needs no PostgreSQL of its own).
    """
    from api.app import create_app

    nowhere = make_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing")
    app = create_app(api.settings, temporal=api.temporal, sessions=make_sessionmaker(nowhere))
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    needs_no_database = {"/codec/decode", "/api/health"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        for (method, template), who in sorted(WHO.items()):
            if not template.startswith(("/api/", "/codec/")):
                continue
            role = next(
                (r for r in ("buyer", "reviewer", "finance", "admin") if allowed(who, r)),
                "anonymous",
            )
            path = template.format(**{k: v for k, v in DUMMY.items() if "{" + k + "}" in template})
            bearer, _ = await credentials(api, session_maker, role)
            kwargs: dict[str, Any] = {"headers": bearer}
            if template == "/api/auth/token":
                kwargs["data"] = {"username": "leiliang", "password": "demo"}
            elif template.endswith("/refund") and method in ("POST", "PUT"):
                kwargs["data"] = REFUND_FORM
                kwargs["files"] = {"proof": ("p.pdf", PDF, "application/pdf")}
            elif template == "/api/finance/payouts/batch":
                kwargs["files"] = {
                    "file": (
                        "bank.csv",
                        b"refund_id,amount_fen,bank_reference\nTK202210181408310000,100,B1\n",
                        "text/csv",
                    )
                }
            elif method in ("POST", "PUT"):
                kwargs["json"] = BODIES.get(template, {})
            response = await http.request(method, path, **kwargs)
            statuses[response.status_code] += 1
            if response.status_code >= 500 and response.status_code != 503:
                wrong.append(f"{method} {template}: {response.status_code}")
            elif template not in needs_no_database and response.status_code != 503:
                wrong.append(f"{method} {template}: {response.status_code} {response.text[:120]}")
            elif (
                response.status_code == 503
                and template != "/api/health"  # its own shape (API.md): the failing part named
                and response.headers["content-type"] != "application/problem+json"
            ):
                wrong.append(f"{method} {template}: 503 without problem+json")
    await nowhere.dispose()
    report.count("API routes asked", sum(statuses.values()))
    report.count("answers by status", ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    assert wrong == [], wrong
    report.hold(
        "every route that needs the database answered 503 problem+json (health: 503 naming "
        "the database); the rest answered as usual; none answered 500"
    )
