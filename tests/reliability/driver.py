"""Driving orders through their lifecycle over HTTP the way a careful client does: every
change carries an Idempotency-Key and is sent again with the same key after a 502/503/504
(waiting as its Retry-After says, capped) or after the connection failed without an answer.
What must hold afterwards is checked by tests/reliability/verification.py."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support import jd_walk
from tests.support.samples import (
    BUYER,
    ORDER_CONTACTS,
    PROFILE,
    REFUND_ACCOUNT,
    REVIEWER,
)

PROBLEM = "application/problem+json"
RETRYABLE = frozenset({502, 503, 504})
# A Retry-After longer than this is not waited out in full: the driver asks again sooner,
# as an impatient but careful client would (the key makes the early retry harmless).
RETRY_AFTER_CAP = 5.0


@dataclass
class Traffic:
    """What the clients saw: every answer, how many were retried and why, and which requests
    a cut connection interrupted (``cut`` marks the moments a server was killed)."""

    requests: int = 0
    retried: int = 0
    transport_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    not_problem_json: list[str] = field(default_factory=list)
    # Attempts sent and not yet answered, now.
    in_flight: int = 0
    retry_after_honoured: int = 0
    # Refused connections: nothing listened, the request was never sent.
    refused: int = 0
    # Attempts sent before a cut whose connection then failed without an answer; the server
    # may or may not have acted on them.
    interrupted: int = 0
    # Of the calls that had an interrupted attempt, those that a retry with the same key then
    # answered as expected.
    recovered: int = 0
    cut_at: list[float] = field(default_factory=list)

    def cut(self) -> None:
        """A server is being killed now: attempts already sent are interrupted by it."""
        self.cut_at.append(asyncio.get_running_loop().time())

    def sent_before_cut(self, sent_at: float) -> bool:
        return any(sent_at < moment for moment in self.cut_at)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the delta form; this API sends no dates), capped."""
    value = response.headers.get("retry-after", "")
    return min(float(value), RETRY_AFTER_CAP) if value.isdigit() else None


class Driver:
    def __init__(self, http: httpx.AsyncClient, traffic: Traffic, budget: float = 240.0) -> None:
        self.http = http
        self.traffic = traffic
        self.budget = budget
        self._tokens: dict[str, dict[str, str]] = {}
        # One sign-in per user however many walks start at once: 32 concurrent sign-ins of
        # one account would only queue at the API's Argon2 gate (503) and burn its CPU.
        self._signing_in: dict[str, asyncio.Lock] = {}

    async def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        key: str | None = None,
        expect: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send until the answer is neither a 502/503/504 nor a failed connection (or the
        budget is spent); the same Idempotency-Key every time."""
        if key is not None:
            headers = headers | {"Idempotency-Key": key}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        pause = 0.25
        interrupted = False
        traffic = self.traffic
        while True:
            traffic.requests += 1
            traffic.in_flight += 1
            sent_at = loop.time()
            wait: float | None = None
            try:
                response: httpx.Response | None = await self.http.request(
                    method, path, headers=headers, **kwargs
                )
            except httpx.ConnectError:
                traffic.transport_errors += 1
                traffic.refused += 1
                response = None
            except httpx.TransportError:
                traffic.transport_errors += 1
                if traffic.sent_before_cut(sent_at):
                    traffic.interrupted += 1
                    interrupted = True
                response = None
            finally:
                traffic.in_flight -= 1
            if response is not None:
                traffic.statuses[response.status_code] += 1
                if response.status_code >= 400 and not response.headers.get(
                    "content-type", ""
                ).startswith(PROBLEM):
                    traffic.not_problem_json.append(f"{method} {path} {response.status_code}")
                if response.status_code >= 500 and response.status_code not in RETRYABLE:
                    traffic.server_errors.append(f"{method} {path}: {response.text[:300]}")
                    raise AssertionError(f"{method} {path} answered {response.status_code}")
                if response.status_code not in RETRYABLE:
                    if response.status_code not in expect:
                        raise AssertionError(
                            f"{method} {path} answered {response.status_code}: {response.text}"
                        )
                    traffic.recovered += interrupted
                    return dict(response.json()) if response.content else {}
                wait = retry_after(response)
            if loop.time() > deadline:
                raise AssertionError(f"{method} {path} still unavailable after {self.budget:.0f}s")
            traffic.retried += 1
            if wait is not None:
                traffic.retry_after_honoured += 1
                await asyncio.sleep(wait)
            else:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def login(self, username: str) -> dict[str, str]:
        async with self._signing_in.setdefault(username, asyncio.Lock()):
            if username not in self._tokens:
                token = await self.call(
                    "POST", "/api/auth/token", {}, data={"username": username, "password": "demo"}
                )
                self._tokens[username] = {"Authorization": f"Bearer {token['access_token']}"}
        return self._tokens[username]

    async def profile(self, buyer: str) -> int:
        created = await self.call(
            "POST", "/api/invoice-profiles", await self.login(buyer), json=PROFILE, expect=(201,)
        )
        return int(created["id"])


# --- the paths an order can take ---------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """Where a path ends: the order, its invoices and refund, the ledger and the e-mails."""

    status: str
    invoices: tuple[str, ...]
    refund: str | None
    paid_out: bool
    mails: tuple[str, ...]
    run_ends: bool = False
    # The walk's own count of changes (Walk.changes) when the caller checks it.
    changes: int | None = None


@dataclass
class Walk:
    """One order on its way: the driver, its keys and the roles it uses. It is a
    ``jd_walk.Send``: each request carries an Idempotency-Key of this walk."""

    driver: Driver
    tag: str
    profile_id: int
    buyer: str = BUYER.username
    order_no: str = ""
    used_keys: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # Keys and service-market numbers must be new in the session's database.
        self.tag = f"{self.tag}-{uuid.uuid4().hex[:8]}"

    @property
    def changes(self) -> int:
        """Changes asked of the order after placing it: each must make exactly one version."""
        return sum(self.used_keys.values()) - self.used_keys["place"]

    def key(self, step: str) -> str:
        """``tag:step``; a step taken again (a second invoice) gets ``tag:step:2`` and on."""
        self.used_keys[step] += 1
        times = self.used_keys[step]
        return f"{self.tag}:{step}" if times == 1 else f"{self.tag}:{step}:{times}"

    async def __call__(self, request: jd_walk.Request) -> dict[str, Any]:
        return await self.driver.call(
            request.method,
            request.path,
            await self.driver.login(request.username),
            key=self.key(request.step),
            expect=(request.expect,),
            **request.content(),
        )

    async def as_buyer(self) -> dict[str, str]:
        return await self.driver.login(self.buyer)

    def place_body(self, product_code: str) -> dict[str, Any]:
        """The placing request: the same for every attempt of this walk."""
        return {
            "product_code": product_code,
            "module_codes": ["ERP"],
            "invoice_profile_id": self.profile_id,
            "service_market_order_no": "SM" + uuid.uuid5(uuid.NAMESPACE_URL, self.tag).hex[:16],
            "shop_name": f"可靠性测试店{self.tag[-8:]}",
            **ORDER_CONTACTS,
            "agreement_accepted": True,
        }

    async def place(self, product_code: str) -> dict[str, Any]:
        order = await jd_walk.place(self, self.place_body(product_code))
        self.order_no = order["order_no"]
        return order

    async def by_buyer(self, method: str, path: str, step: str, **kwargs: Any) -> dict[str, Any]:
        path = path.format(no=self.order_no)
        return await self(jd_walk.Request(step, self.buyer, method, path, **kwargs))

    async def staff(
        self, who: str, path: str, step: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self(jd_walk.Request(step, who, "POST", path, json=body or {}))

    async def approve(self) -> dict[str, Any]:
        return await jd_walk.approve(self, self.order_no)

    async def issue_and_ship(self, invoice_app_no: str) -> dict[str, Any]:
        await jd_walk.issue_invoice(self, invoice_app_no, f"FP{invoice_app_no[-8:]}")
        return await jd_walk.ship_invoice(self, invoice_app_no)


async def jd_refund(walk: Walk) -> None:
    """JD (开票/退款): refund filed with a proof, returned, corrected, agreed, paid out."""
    await walk.place("JD0001")
    await walk.approve()
    order = await jd_walk.confirm_receipt(walk, walk.order_no)
    await jd_walk.decide_refund(walk, walk.order_no)
    refund = await jd_walk.apply_refund(walk, walk.order_no, proof_name="盖章证明.pdf")
    refund_id = refund["refund_id"]
    await jd_walk.record_settlement(walk, walk.order_no)
    await walk.staff(
        REVIEWER.username,
        f"/api/admin/refunds/{refund_id}/return",
        "return-refund",
        {"reason": "开户行有误"},
    )
    await walk.by_buyer(
        "PUT",
        "/api/orders/{no}/refund",
        "edit-refund",
        data={"refund_type": "enterprise", **REFUND_ACCOUNT, "bank": "中国建设银行"},
    )
    agreed = await jd_walk.agree_refund(walk, refund_id)
    await jd_walk.pay_out(walk, refund_id, agreed["amount_fen"], f"B{walk.tag[-10:]}")
    for invoice_app_no in jd_walk.applied_invoices(order):
        await walk.issue_and_ship(invoice_app_no)


async def taobao_returned(walk: Walk) -> None:
    """Taobao (只开票): returned, edited, approved, invoice returned and corrected, shipped."""
    await walk.place("JSFW0001")
    await walk.staff(
        "bmp", f"/api/admin/orders/{walk.order_no}/return", "return", {"reason": "店铺名称有误"}
    )
    await walk.by_buyer(
        "PUT", "/api/orders/{no}", "edit", json={"shop_name": f"改后店{walk.tag[-6:]}"}
    )
    await walk.approve()
    order = await jd_walk.confirm_receipt(walk, walk.order_no)
    [invoice_app_no] = jd_walk.applied_invoices(order)
    base = f"/api/admin/invoices/{invoice_app_no}"
    await walk.staff("bmp", f"{base}/return", "return-invoice", {"reason": "抬头有误"})
    await walk.by_buyer(
        "PUT", f"/api/invoices/{invoice_app_no}", "edit-invoice", json={"recipient_name": "李四"}
    )
    await walk.issue_and_ship(invoice_app_no)


async def douyin_no_refund(walk: Walk) -> None:
    """Douyin (只退款): approved, 不退款 right away, the whole amount invoiced and shipped."""
    await walk.place("DY0001")
    await walk.approve()
    order = await jd_walk.decide_refund(walk, walk.order_no, "no_refund")
    for invoice_app_no in jd_walk.applied_invoices(order):
        await walk.issue_and_ship(invoice_app_no)


async def voided(walk: Walk) -> None:
    """Voided by the back office; the run ends once the e-mail is out."""
    await walk.place("PDD0001")
    await walk.staff(
        "bmp", f"/api/admin/orders/{walk.order_no}/void", "void", {"reason": "重复下单"}
    )


async def jd_no_refund(walk: Walk) -> None:
    """JD (开票/退款): 不退款, both shares invoiced and shipped."""
    await walk.place("JD0001")
    await walk.approve()
    await jd_walk.confirm_receipt(walk, walk.order_no)
    order = await jd_walk.decide_refund(walk, walk.order_no, "no_refund")
    for invoice_app_no in jd_walk.applied_invoices(order):
        await walk.issue_and_ship(invoice_app_no)


Path_ = Callable[[Walk], Coroutine[Any, Any, None]]
PATHS: dict[str, tuple[Path_, Expected]] = {
    "jd_refund": (
        jd_refund,
        Expected(
            "completed",
            ("cancelled", "shipped"),
            "refunded",
            True,
            ("invoice_shipped", "refund_agreed", "refund_paid", "refund_returned"),
        ),
    ),
    "taobao_returned": (
        taobao_returned,
        Expected(
            "completed",
            ("shipped",),
            None,
            False,
            ("invoice_returned", "invoice_shipped", "order_returned"),
        ),
    ),
    "douyin_no_refund": (
        douyin_no_refund,
        Expected("completed", ("shipped",), None, False, ("invoice_shipped",)),
    ),
    "void": (voided, Expected("voided", (), None, False, ("order_voided",), run_ends=True)),
    "jd_no_refund": (
        jd_no_refund,
        Expected("completed", ("shipped", "shipped"), None, False, ("invoice_shipped",) * 2),
    ),
}
