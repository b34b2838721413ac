"""A signed-in client of the API (in-process or a real process) with the Temporal client
behind it, and the JD order driven to the states the tests start from.

Tests share the server, the worker and the database, so each makes its own data (unique
service-market order numbers and shop names) and asserts only about that.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from api.auth import start_sign_in
from api.sessions import API
from domain.order import Actor
from settings import Settings
from tests.support import jd_walk
from tests.support.samples import BUYER, PROFILE, REFUND_FORM, REVIEWER, order_body
from tests.support.smtp import SmtpSink
from worker import SANDBOXED, build_worker

PROOF_LIMIT_BYTES = 256 * 1024


def form_token(html: str) -> str:
    """The CSRF token the forms of a page carry."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None, "no csrf_token in the page"
    return found.group(1)


async def session_token(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, actor: Actor
) -> str:
    """A bearer token with a live session for ``actor``, who need not be a real account."""
    async with sessions() as db:
        return await start_sign_in(db, settings, actor, kind=API)


async def signed_in_pages(api: Api, username: str) -> httpx.AsyncClient:
    """A browser-like client of the pages, signed in as ``username`` through the login form
    (its CSRF token), sending what a browser sends from the site's own pages."""
    origin = str(api.http.base_url).rstrip("/")
    return await pages_client(origin, username, transport=api.http._transport)


async def pages_client(
    origin: str, username: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A browser-like client of the pages at ``origin`` (over ``transport``, else the
    network), signed in as ``username`` through the login form."""
    client = httpx.AsyncClient(
        transport=transport, base_url=origin, follow_redirects=True, headers={"Origin": origin}
    )
    login = await client.get("/login")
    page = await client.post(
        "/login",
        data={"username": username, "password": "demo", "csrf_token": form_token(login.text)},
    )
    assert page.status_code == 200, page.text
    client.headers["X-CSRF-Token"] = form_token(page.text)
    return client


def refused_back_to(page: httpx.Response, path: str) -> bool:
    """A refused page form answered with a 303 to the page it is on, ``path`` (post/redirect/
    get: a reload does not post again), and that page, followed, shown."""
    redirects = [answer.status_code for answer in page.history]
    return redirects == [303] and page.url.path == path and page.status_code == 200


async def ok(response: Awaitable[httpx.Response], status: int = 200) -> dict[str, Any]:
    """The JSON of a response that must have ``status``."""
    answer = await response
    assert answer.status_code == status, answer.text
    return dict(answer.json())


@dataclass
class Api:
    """A client of the API with the Temporal client behind it, to look at runs directly."""

    http: httpx.AsyncClient
    temporal: Client
    smtp: SmtpSink
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    async def login(self, username: str, password: str = "demo") -> dict[str, str]:
        if username not in self.tokens:
            response = await self.http.post(
                "/api/auth/token", data={"username": username, "password": password}
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def send(self, request: jd_walk.Request) -> dict[str, Any]:
        """A step of a jd_walk, sent once; its answer must be the one it expects."""
        headers = await self.login(request.username)
        answer = self.http.request(
            request.method, request.path, headers=headers, **request.content()
        )
        return await ok(answer, request.expect)

    async def profile(self, headers: dict[str, str], **overrides: str) -> int:
        response = await self.http.post(
            "/api/invoice-profiles", json=PROFILE | overrides, headers=headers
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def place_body(self, **overrides: Any) -> dict[str, Any]:
        """A placing request of the sample buyer, on an invoice profile of its own."""
        return order_body(await self.profile(await self.login(BUYER.username)), **overrides)

    async def place(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        profile_id = await self.profile(headers)
        response = await self.http.post(
            "/api/orders", json=order_body(profile_id, **overrides), headers=headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def runs_for(self, service_market_order_no: str, *, expect: int = 0) -> list[str]:
        """Workflow ids of the runs for that service-market order number. Visibility lags
        a little, so wait up to a few seconds for ``expect`` runs before answering."""
        query = f"ServiceMarketOrderNo = '{service_market_order_no}'"
        for _ in range(40):
            runs = [run.id async for run in self.temporal.list_workflows(query)]
            if len(runs) >= expect:
                return runs
            await asyncio.sleep(0.1)
        return runs

    @contextmanager
    def recording(self) -> Iterator[list[bytes]]:
        """Every response body received inside the block (to search for leaked data)."""
        bodies: list[bytes] = []

        async def keep(response: httpx.Response) -> None:
            bodies.append(await response.aread())

        hooks = self.http.event_hooks
        self.http.event_hooks = {**hooks, "response": [*hooks.get("response", []), keep]}
        try:
            yield bodies
        finally:
            self.http.event_hooks = hooks


@asynccontextmanager
async def api_with_worker(
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpSink,
) -> AsyncIterator[Api]:
    """The API in process, with a worker (sandboxed, as the lifecycle tests run it) on the
    settings' task queue."""
    app = create_app(settings, temporal=temporal, sessions=sessions)
    async with (
        build_worker(
            temporal, settings, sessions, settings.temporal_task_queue, workflow_runner=SANDBOXED
        ),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http, temporal, smtp, settings)


async def placed_jd_order(api: Api, **overrides: Any) -> str:
    """A JD order of the sample buyer, as placed; its number."""
    order = await jd_walk.place(api.send, await api.place_body(**overrides))
    return str(order["order_no"])


async def completed_jd_order(api: Api, **overrides: Any) -> dict[str, Any]:
    """A JD (invoice_and_refund) order approved and receipt-confirmed by its buyer."""
    no = await placed_jd_order(api, **overrides)
    await jd_walk.approve(api.send, no)
    return await jd_walk.confirm_receipt(api.send, no)


async def refund_chosen(api: Api, **overrides: Any) -> str:
    """A JD order whose buyer chose 退款, ready for a refund application; its number."""
    no = await placed_jd_order(api, **overrides)
    await jd_walk.refund_chosen(api.send, no)
    return no


async def refund_chosen_as(api: Api, buyer: dict[str, str]) -> str:
    """A JD order of the buyer signed in with ``buyer`` (any demo buyer), approved,
    receipt-confirmed and decided 退款; its number."""
    no = str((await api.place(buyer))["order_no"])
    reviewer = await api.login(REVIEWER.username)
    await ok(api.http.post(f"/api/admin/orders/{no}/approve", json={}, headers=reviewer))
    await ok(api.http.post(f"/api/orders/{no}/confirm-receipt", headers=buyer))
    decision = {"decision": "refund"}
    await ok(api.http.post(f"/api/orders/{no}/refund-decision", json=decision, headers=buyer))
    return no


async def refund_applied(api: Api, **overrides: Any) -> dict[str, Any]:
    """A JD order whose buyer chose 退款 and filed an individual refund with a PDF proof."""
    no = await refund_chosen(api, **overrides)
    await jd_walk.apply_refund(api.send, no)
    return await ok(api.http.get(f"/api/orders/{no}", headers=await api.login(BUYER.username)))


async def agreed_refund(api: Api, form: dict[str, str] = REFUND_FORM) -> dict[str, Any]:
    """A JD order driven to 同意退款 (settlement recorded); the refund."""
    return await jd_walk.refund_agreed(api.send, await placed_jd_order(api), form)
