"""The fault tests' clients retry as a careful client would, and only then: checked against a
scripted server (httpx.MockTransport), so what the fault tests count is what happened."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.reliability import driver
from tests.reliability.driver import RETRY_AFTER_CAP, Driver, Traffic

Answer = Callable[[Traffic], Awaitable[httpx.Response]]
# The driver's pauses are recorded instead of slept (asyncio.sleep is patched while a
# request runs); the scripted server still needs a real one.
REAL_SLEEP = asyncio.sleep


async def run(
    answers: list[Answer], monkeypatch: pytest.MonkeyPatch, *, expect: int = 200
) -> tuple[Traffic, list[str | None], list[float]]:
    """Send one keyed request through a server answering ``answers`` in turn; returns the
    traffic, the Idempotency-Key of each attempt and the driver's pauses."""
    traffic = Traffic()
    keys: list[str | None] = []
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        await REAL_SLEEP(0)

    async def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        return await answers[len(keys) - 1](traffic)

    monkeypatch.setattr(driver.asyncio, "sleep", pause)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://api"
    ) as http:
        await Driver(http, traffic).call("POST", "/x", {}, key="k-1", expect=(expect,))
    return traffic, keys, pauses


def answer(status: int, headers: dict[str, str] | None = None) -> Answer:
    async def respond(_: Traffic) -> httpx.Response:
        kind = "application/problem+json" if status >= 400 else "application/json"
        return httpx.Response(status, headers={"content-type": kind, **(headers or {})}, json={})

    return respond


async def refused(_: Traffic) -> httpx.Response:
    raise httpx.ConnectError("connection refused")


async def cut_off(traffic: Traffic) -> httpx.Response:
    """The server is killed while it holds the request: the connection drops unanswered."""
    await REAL_SLEEP(0.01)
    traffic.cut()
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


async def test_a_503_is_retried_with_the_same_key_after_its_retry_after_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 503 is sent again with the same Idempotency-Key, after its Retry-After (capped)

    The driver waits as long as Retry-After says, at most RETRY_AFTER_CAP seconds, and
    backs off on its own when a 503 names no pause.
    """
    traffic, keys, pauses = await run(
        [
            answer(503, {"Retry-After": "2"}),
            answer(503, {"Retry-After": "120"}),
            answer(503),
            answer(200),
        ],
        monkeypatch,
    )
    assert keys == ["k-1"] * 4
    assert pauses == [2.0, RETRY_AFTER_CAP, 0.25]
    assert (traffic.retried, traffic.retry_after_honoured) == (3, 2)


async def test_a_request_cut_off_by_a_kill_is_retried_and_counted_as_recovered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request cut off by a killed server is sent again with the same key, and counted

    A refused connection (nothing listening) is retried too, but is not counted as cut off:
    only an attempt sent before the kill is.
    """
    traffic, keys, _ = await run([cut_off, refused, answer(201)], monkeypatch, expect=201)
    assert keys == ["k-1"] * 3
    assert (traffic.interrupted, traffic.refused, traffic.recovered) == (1, 1, 1)
    assert traffic.in_flight == 0


async def test_a_500_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 is not retried: it fails the fault test and is reported

    Only 502/503/504 and failed connections say that nothing happened or that trying again
    is safe; any other 5xx is a defect the fault tests must show.
    """
    with pytest.raises(AssertionError, match="answered 500"):
        await run([answer(500), answer(200)], monkeypatch)
