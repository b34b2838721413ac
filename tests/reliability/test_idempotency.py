"""Idempotency-Key: a replay (also concurrent) makes one change and gets the first answer;
the same key with a different request is refused with 422 and changes nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus

from db import models
from tests.reliability.report import Section
from tests.support.http_api import Api, agreed_refund, ok
from tests.support.samples import ENTERPRISE_REFUND_FORM, PDF, REFUND_FORM, order_body, unique

REPLAYS = 5


class Sender:
    """Sends one request several times with one key; counts what it sent."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.requests = 0

    async def send(
        self, method: str, path: str, who: str, key: str, **kwargs: Any
    ) -> httpx.Response:
        headers = await self.api.login(who) | {"Idempotency-Key": key}
        self.requests += 1
        return await self.api.http.request(method, path, headers=headers, **kwargs)

    async def replayed(
        self, method: str, path: str, who: str, **kwargs: Any
    ) -> tuple[httpx.Response, list[httpx.Response]]:
        """``REPLAYS`` copies at once, then one more after they answered."""
        key = unique("idem-")
        together = await asyncio.gather(
            *(self.send(method, path, who, key, **kwargs) for _ in range(REPLAYS))
        )
        later = await self.send(method, path, who, key, **kwargs)
        return together[0], [*together[1:], later]


def _same(first: httpx.Response, others: list[httpx.Response]) -> list[str]:
    return [
        f"{r.request.method} {r.request.url.path}: {r.status_code} differs from the first answer"
        for r in others
        if (r.status_code, r.json()) != (first.status_code, first.json())
    ]


async def _version(api: Api, order_no: str) -> int:
    order = await ok(api.http.get(f"/api/orders/{order_no}", headers=await api.login("bmp")))
    return int(order["version"])


async def test_replayed_key_changes_once_and_answers_the_first_answer(
    api: Api, session_maker: async_sessionmaker[AsyncSession], report: Section
) -> None:
    """The same Idempotency-Key replayed, also concurrently

    Every state-changing request of a JD order's whole refund path, sent five times at once
    with one key and once more afterwards: each step changes the order once, every copy
    answers exactly what the first did, one payout is recorded and each e-mail goes once.
    """
    sender = Sender(api)
    profile_id = await api.profile(await api.login("leiliang"))
    body = order_body(profile_id)
    first, others = await sender.replayed("POST", "/api/orders", "leiliang", json=body)
    assert first.status_code == 201, first.text
    differences = _same(first, others)
    no = first.json()["order_no"]
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        ("POST", f"/api/admin/orders/{no}/approve", "bmp", {"json": {}}),
        ("POST", f"/api/orders/{no}/confirm-receipt", "leiliang", {}),
        ("POST", f"/api/orders/{no}/refund-decision", "leiliang", {"json": {"decision": "refund"}}),
        (
            "POST",
            f"/api/orders/{no}/refund",
            "leiliang",
            {"data": REFUND_FORM, "files": {"proof": ("证明.pdf", PDF, "application/pdf")}},
        ),
        ("POST", f"/api/admin/orders/{no}/settlement", "bmp", {"json": {}}),
    ]
    versions = [await _version(api, no)]
    answers: dict[str, Any] = {}
    for method, path, who, kwargs in steps:
        first, others = await sender.replayed(method, path, who, **kwargs)
        assert first.status_code in (200, 201), first.text
        differences += _same(first, others)
        answers[path] = first.json()
        versions.append(await _version(api, no))
    refund_id = answers[f"/api/orders/{no}/refund"]["refund_id"]
    invoice = answers[f"/api/orders/{no}/confirm-receipt"]["invoices"][0]["invoice_app_no"]
    finishing: list[tuple[str, str, str, dict[str, Any]]] = [
        ("POST", f"/api/admin/refunds/{refund_id}/agree", "bmp", {"json": {}}),
        (
            "POST",
            f"/api/finance/refunds/{refund_id}/payout",
            "finance",
            {"json": {"amount_fen": 100_000, "bank_reference": unique("B")}},
        ),
        (
            "POST",
            f"/api/admin/invoices/{invoice}/issue",
            "bmp",
            {"json": {"invoice_number": f"FP{invoice[-8:]}"}},
        ),
        (
            "POST",
            f"/api/admin/invoices/{invoice}/ship",
            "bmp",
            {"json": {"courier": "中通", "tracking_no": "123123123"}},
        ),
    ]
    for method, path, who, kwargs in finishing:
        first, others = await sender.replayed(method, path, who, **kwargs)
        assert first.status_code == 200, first.text
        differences += _same(first, others)
        versions.append(await _version(api, no))

    async with session_maker() as session:
        orders = await session.scalar(
            select(func.count()).where(
                models.Order.service_market_order_no == body["service_market_order_no"]
            )
        )
        payouts = await session.scalar(
            select(func.count()).where(models.Payout.refund_id == refund_id)
        )
        actions = Counter(
            await session.scalars(
                select(models.OrderEvent.action).where(models.OrderEvent.order_no == no)
            )
        )
        outbox = list(
            await session.scalars(
                select(models.OutboxMessage.key).where(models.OutboxMessage.order_no == no)
            )
        )
    for _ in range(100):
        if len(api.smtp.for_order(no)) >= len(outbox) == 3:
            break
        await asyncio.sleep(0.1)
        async with session_maker() as session:
            outbox = list(
                await session.scalars(
                    select(models.OutboxMessage.key).where(models.OutboxMessage.order_no == no)
                )
            )
    delivered = Counter(str(m["X-Outbox-Key"]) for m in api.smtp.for_order(no))

    report.try_(
        f"a JD order's whole refund path (placement and {len(steps) + 4} changes, by buyer, "
        f"reviewer and finance), each request sent {REPLAYS} times at once with one key and "
        "once more after they answered"
    )
    report.count("requests", sender.requests)
    report.count("changes made", len(steps) + 5)
    assert differences == [], differences
    report.hold("every copy got exactly the first answer (status and body)")
    assert orders == 1
    assert versions == list(range(versions[0], versions[0] + len(versions)))
    assert set(actions.values()) == {1}, actions
    report.hold("one order placed; each step moved the order's version by exactly one")
    assert payouts == 1
    assert sorted(delivered.values()) == [1, 1, 1] and set(delivered) == set(outbox)
    report.hold("one payout row; each of the three e-mails recorded and delivered once")


async def test_reused_key_with_a_different_body_is_422_and_changes_nothing(
    api: Api, session_maker: async_sessionmaker[AsyncSession], report: Section
) -> None:
    """The same Idempotency-Key with a different request

    Placement, approval, another action on the same order, payout, and a void after the run
    ended: the same key with another body is 422 (naming Idempotency-Key) and changes
    nothing; sent concurrently with different bodies, exactly one is applied.
    """
    sender = Sender(api)
    buyer = await api.login("leiliang")
    profile_id = await api.profile(buyer)
    refused: list[httpx.Response] = []

    key = unique("place-")
    body = order_body(profile_id)
    placed = await sender.send("POST", "/api/orders", "leiliang", key, json=body)
    assert placed.status_code == 201
    no = placed.json()["order_no"]
    refused.append(
        await sender.send(
            "POST", "/api/orders", "leiliang", key, json=body | {"shop_name": "别的店"}
        )
    )
    refused.append(
        await sender.send(
            "POST",
            "/api/orders",
            "leiliang",
            key,
            json=order_body(profile_id, product_code="JSFW0001"),
        )
    )
    again = await sender.send("POST", "/api/orders", "leiliang", key, json=body)
    assert (again.status_code, again.json()) == (201, placed.json())

    key = unique("approve-")
    approve = f"/api/admin/orders/{no}/approve"
    assert (await sender.send("POST", approve, "bmp", key, json={"note": "a"})).status_code == 200
    version = await _version(api, no)
    refused.append(await sender.send("POST", approve, "bmp", key, json={"note": "b"}))
    refused.append(
        await sender.send("POST", f"/api/admin/orders/{no}/settlement", "bmp", key, json={})
    )
    assert await _version(api, no) == version

    # Concurrently, five different bodies under one key: one applied, four refused.
    other = await api.place(buyer)
    key = unique("race-")
    raced = await asyncio.gather(
        *(
            sender.send(
                "POST",
                f"/api/admin/orders/{other['order_no']}/approve",
                "bmp",
                key,
                json={"note": f"n{i}"},
            )
            for i in range(5)
        )
    )
    race_statuses = sorted(r.status_code for r in raced)
    refused += [r for r in raced if r.status_code == 422]
    key = race_key = unique("place-race-")
    placed_race = await asyncio.gather(
        *(
            sender.send(
                "POST",
                "/api/orders",
                "leiliang",
                key,
                json=order_body(profile_id, shop_name=f"店{i}"),
            )
            for i in range(4)
        )
    )
    place_race_statuses = sorted(r.status_code for r in placed_race)
    refused += [r for r in placed_race if r.status_code == 422]

    # Payout: the same key with another bank reference.
    refund_id = (await agreed_refund(api, ENTERPRISE_REFUND_FORM))["refund_id"]
    key = unique("pay-")
    pay = f"/api/finance/refunds/{refund_id}/payout"
    assert (
        await sender.send(
            "POST", pay, "finance", key, json={"amount_fen": 100_000, "bank_reference": "R1"}
        )
    ).status_code == 200
    refused.append(
        await sender.send(
            "POST", pay, "finance", key, json={"amount_fen": 100_000, "bank_reference": "R2"}
        )
    )

    # After the run has ended (voided): the history still knows the key.
    ended = await api.place(buyer)
    key = unique("void-")
    void = f"/api/admin/orders/{ended['order_no']}/void"
    first_void = await sender.send("POST", void, "bmp", key, json={"reason": "重复"})
    handle = api.temporal.get_workflow_handle(ended["order_no"])
    for _ in range(100):
        if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    refused.append(await sender.send("POST", void, "bmp", key, json={"reason": "另一个理由"}))
    replay = await sender.send("POST", void, "bmp", key, json={"reason": "重复"})

    async with session_maker() as session:
        ledger = list(
            await session.scalars(
                select(models.Payout.bank_reference).where(models.Payout.refund_id == refund_id)
            )
        )
        place_race_orders = await session.scalar(
            select(func.count()).where(
                models.Order.buyer == "leiliang", models.Order.placement_key == race_key
            )
        )
        approvals = await session.scalar(
            select(func.count()).where(
                models.OrderEvent.order_no == other["order_no"],
                models.OrderEvent.action == "approve",
            )
        )

    report.try_(
        "a reused key with another body on: placement (other shop, other product), approval "
        "(other note), another action on the same order, payout (other bank reference), and "
        "a void after the run had ended"
    )
    report.try_(
        "five approvals with different notes under one key at once; four placements likewise"
    )
    report.count("requests", sender.requests)
    report.count("refused with 422", len(refused))
    problems = [
        r.text
        for r in refused
        if r.status_code != 422
        or r.headers["content-type"] != "application/problem+json"
        or r.json()["errors"][0]["field"] != "Idempotency-Key"
    ]
    assert problems == [], problems
    report.hold("each reuse with another request answered 422 problem+json naming Idempotency-Key")
    assert race_statuses == [200, 422, 422, 422, 422] and approvals == 1
    assert place_race_statuses == [201, 422, 422, 422]
    report.hold(
        "raced with different bodies, exactly one request was applied and the others refused"
    )
    assert ledger == ["R1"]
    assert (replay.status_code, replay.json()) == (200, first_void.json())
    assert place_race_orders == 1
    report.hold(
        "nothing changed by a refused request: the order's version, one ledger row with the "
        "first bank reference, one order per key; the exact replay after the run ended still "
        "got the first answer"
    )
