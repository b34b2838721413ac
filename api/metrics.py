"""Prometheus metrics of the API: requests and latency by route template, at /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from api.auth import require_roles
from domain.statuses import STAFF

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def install(app: FastAPI, *, public: bool) -> None:
    """Count every request; serve the figures at /metrics to anyone when ``public``
    (development), else only to signed-in staff (a scraper sends a staff bearer token)."""
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

    readers = [] if public else [Depends(require_roles(*STAFF))]

    @app.get("/metrics", include_in_schema=False, dependencies=readers)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
