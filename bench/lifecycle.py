"""The guide's JD path over HTTP, route by route, as the buyer, the reviewer and finance:
place, approve, confirm receipt, refund decision, refund application, settlement, agree,
payout, invoice issue, ship. Ten state changes, so ten updates of the order's workflow."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bench.load import closed_loop
from bench.stats import Recorder, summary

# name -> route template, in the order the lifecycle takes them.
JD_PATH: dict[str, str] = {
    "place": "POST /api/orders",
    "approve": "POST /api/admin/orders/{order_no}/approve",
    "confirm_receipt": "POST /api/orders/{order_no}/confirm-receipt",
    "refund_decision": "POST /api/orders/{order_no}/refund-decision",
    "refund_apply": "POST /api/orders/{order_no}/refund",
    "settlement": "POST /api/admin/orders/{order_no}/settlement",
    "agree": "POST /api/admin/refunds/{refund_id}/agree",
    "payout": "POST /api/finance/refunds/{refund_id}/payout",
    "invoice_issue": "POST /api/admin/invoices/{invoice_app_no}/issue",
    "invoice_ship": "POST /api/admin/invoices/{invoice_app_no}/ship",
}
UPDATES_PER_LIFECYCLE = len(JD_PATH)

BUYER, REVIEWER, FINANCE = "leiliang", "bmp", "finance"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PROFILE = {
    "invoice_type": "vat_special",
    "title": "快乐贸易有限公司",
    "taxpayer_id": "91350100M000100Y43",
    "recipient_name": "张三",
    "recipient_mobile": "19390000000",
    "recipient_address": "上海市浦东新区峨山路91弄120号",
}
REFUND_FORM = {
    "refund_type": "individual",
    "account_name": "快乐贸易有限公司",
    "bank": "中国工商银行",
    "branch": "上海陆家嘴支行",
    "card_no": "6222021234567891234",
    "region": "上海市",
}


class UnexpectedAnswerError(RuntimeError):
    """The API answered a step of the lifecycle with something other than success."""


@dataclass
class Session:
    """Signed-in headers of the three roles and the buyer's invoice profile."""

    http: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    profile_id: int

    @classmethod
    async def open(cls, http: httpx.AsyncClient, password: str) -> Session:
        headers: dict[str, dict[str, str]] = {}
        for username in (BUYER, REVIEWER, FINANCE):
            answer = await http.post(
                "/api/auth/token", data={"username": username, "password": password}
            )
            _expect(answer, 200)
            headers[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        profile = await http.post("/api/invoice-profiles", json=PROFILE, headers=headers[BUYER])
        _expect(profile, 201)
        return cls(http, headers, int(profile.json()["id"]))


def _expect(answer: httpx.Response, status: int) -> dict[str, Any]:
    if answer.status_code != status:
        raise UnexpectedAnswerError(
            f"{answer.request.method} {answer.request.url.path} answered {answer.status_code}, "
            f"not {status}: {answer.text[:300]}"
        )
    return dict(answer.json())


async def walk(session: Session, recorder: Recorder, tag: str) -> None:
    """One order from placement to the shipped invoice."""
    http, who = session.http, session.headers

    async def call(name: str, role: str, path: str, status: int = 200, **kw: Any) -> dict[str, Any]:
        with recorder.timed(name):
            answer = await http.post(path, headers=who[role], **kw)
        return _expect(answer, status)

    order = await call(
        "place",
        BUYER,
        "/api/orders",
        201,
        json={
            "product_code": "JD0001",
            "module_codes": ["ERP"],
            "invoice_profile_id": session.profile_id,
            "service_market_order_no": f"SM{tag}",
            "shop_name": f"压测京东店{tag[-6:]}",
            "seller_nick": "kuaile",
            "baison_staff": "王工",
            "reminder_name": "李雷",
            "reminder_mobile": "13800138000",
            "reminder_email": "lilei@example.com",
            "agreement_accepted": True,
        },
    )
    no = order["order_no"]
    await call(
        "approve",
        REVIEWER,
        f"/api/admin/orders/{no}/approve",
        json={"platform_amount_fen": 200_000},
    )
    confirmed = await call("confirm_receipt", BUYER, f"/api/orders/{no}/confirm-receipt")
    invoice_app_no = next(i for i in confirmed["invoices"] if i["status"] == "applied")[
        "invoice_app_no"
    ]
    await call(
        "refund_decision", BUYER, f"/api/orders/{no}/refund-decision", json={"decision": "refund"}
    )
    refund = await call(
        "refund_apply",
        BUYER,
        f"/api/orders/{no}/refund",
        201,
        data=REFUND_FORM,
        files={"proof": ("证明.pdf", PDF, "application/pdf")},
    )
    refund_id = refund["refund_id"]
    await call("settlement", REVIEWER, f"/api/admin/orders/{no}/settlement", json={})
    agreed = await call("agree", REVIEWER, f"/api/admin/refunds/{refund_id}/agree", json={})
    await call(
        "payout",
        FINANCE,
        f"/api/finance/refunds/{refund_id}/payout",
        json={"amount_fen": agreed["amount_fen"], "bank_reference": f"ICBC{tag}"},
    )
    await call(
        "invoice_issue",
        REVIEWER,
        f"/api/admin/invoices/{invoice_app_no}/issue",
        json={"invoice_number": f"INV{tag}"},
    )
    shipped = await call(
        "invoice_ship",
        REVIEWER,
        f"/api/admin/invoices/{invoice_app_no}/ship",
        json={"courier": "中通", "tracking_no": tag[:20]},
    )
    if shipped["status"] != "shipped":
        raise UnexpectedAnswerError(f"order {no} ended with invoice {shipped['status']}")


def client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4
    )
    return httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits)


async def run_level(session: Session, *, total: int, concurrency: int) -> dict[str, Any]:
    recorder = Recorder()
    run = uuid.uuid4().hex[:6]

    async def lifecycle(index: int) -> None:
        await walk(session, recorder, f"{run}{index:06d}{time.time_ns() % 10_000:04d}")

    result = await closed_loop(lifecycle, total=total, concurrency=concurrency)
    return result.level(concurrency) | {
        "routes": {name: summary(recorder.samples[name]) for name in JD_PATH}
    }
