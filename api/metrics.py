"""Prometheus metrics of the API, at /metrics: requests and latency by route template, and
failed sign-ins by reason (never by username: unbounded, and personal)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SIGN_IN_FAILURE_REASONS = ("wrong_password", "throttled", "busy", "disabled")


def count_sign_in_failure(request: Request, reason: str) -> None:
    assert reason in SIGN_IN_FAILURE_REASONS, reason
    request.app.state.sign_in_failures.labels(reason).inc()


def install(app: FastAPI, *, readers: Sequence[Any]) -> None:
    """Count every request; serve the figures at /metrics behind ``readers`` (dependencies:
    none in development, staff sign-in otherwise; a scraper sends a staff bearer token)."""
    # One registry per app, so several apps in one process (tests) never collide.
    registry = CollectorRegistry()
    requests = Counter(
        "shop_orders_http_requests",
        "HTTP requests by route template and status",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "shop_orders_http_request_duration_seconds",
        "HTTP request latency by route template",
        ["method", "route"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    sign_in_failures = Counter(
        "shop_orders_sign_in_failures",
        "Failed sign-ins by reason",
        ["reason"],
        registry=registry,
    )
    for reason in SIGN_IN_FAILURE_REASONS:
        sign_in_failures.labels(reason)  # every reason listed from the start, at 0
    app.state.sign_in_failures = sign_in_failures

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            # The template (/api/orders/{order_no}), never the raw path: bounded label values.
            template = getattr(route, "path", "unmatched")
            if template != "/metrics":
                requests.labels(request.method, template, str(status)).inc()
                latency.labels(request.method, template).observe(time.perf_counter() - started)

    @app.get("/metrics", include_in_schema=False, dependencies=list(readers))
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
