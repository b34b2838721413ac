"""The guide's JD path over HTTP, route by route, as the buyer, the reviewer and finance:
place, approve, confirm receipt, refund decision, refund application, settlement, agree,
payout, invoice issue, ship. Ten state changes, so ten updates of the order's workflow."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench.load import closed_loop
from bench.stats import Recorder, summary
from tests.support import jd_walk
from tests.support.jd_walk import JD_PATH
from tests.support.samples import BUYER, FINANCE, PROFILE, REVIEWER, order_body

UPDATES_PER_LIFECYCLE = len(JD_PATH)


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
        for username in (BUYER.username, REVIEWER.username, FINANCE.username):
            answer = await http.post(
                "/api/auth/token", data={"username": username, "password": password}
            )
            _expect(answer, 200)
            headers[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        buyer = headers[BUYER.username]
        profile = await http.post("/api/invoice-profiles", json=PROFILE, headers=buyer)
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
    """One order from placement to the shipped invoice, each step timed under its name."""

    async def send(request: jd_walk.Request) -> dict[str, Any]:
        headers = session.headers[request.username]
        with recorder.timed(request.step):
            answer = await session.http.request(
                request.method, request.path, headers=headers, **request.content()
            )
        return _expect(answer, request.expect)

    body = order_body(
        session.profile_id, service_market_order_no=f"SM{tag}", shop_name=f"压测京东店{tag[-6:]}"
    )
    shipped = await jd_walk.walk_jd_refund(send, body, tag)
    if shipped["status"] != "shipped":
        raise UnexpectedAnswerError(f"order SM{tag} ended with invoice {shipped['status']}")


def client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4
    )
    return httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits)


async def run_level(
    session: Session | Sequence[Session], *, total: int, concurrency: int
) -> dict[str, Any]:
    """``total`` JD lifecycles, ``concurrency`` at a time; given several sessions (one per
    API process), lifecycles take them in turn, as a round-robin load balancer would."""
    recorder = Recorder()
    run = uuid.uuid4().hex[:6]
    sessions = [session] if isinstance(session, Session) else list(session)

    async def lifecycle(index: int) -> None:
        await walk(
            sessions[index % len(sessions)],
            recorder,
            f"{run}{index:06d}{time.time_ns() % 10_000:04d}",
        )

    result = await closed_loop(lifecycle, total=total, concurrency=concurrency)
    return result.level(concurrency) | {
        "routes": {name: summary(recorder.samples[name]) for name in JD_PATH}
    }
