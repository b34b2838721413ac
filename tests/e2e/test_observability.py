"""Structured logs carry the order number; the worker exposes Temporal's metrics."""

from __future__ import annotations

import json
import logging
import urllib.request

from devstack.processes import free_port
from ops.logs import JsonFormatter, TextFormatter
from settings import Settings
from worker import runtime_for


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord(
        "activities", logging.INFO, __file__, 1, "projected version %d", (3,), None
    )
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


def test_json_log_line_names_the_order_of_an_activity() -> None:
    line = JsonFormatter().format(
        record(
            temporal_activity={
                "workflow_id": "BS-ZX202210181408314977",
                "activity_type": "save_order",
                "attempt": 1,
            }
        )
    )
    entry = json.loads(line)
    assert (entry["order_no"], entry["message"], entry["activity"]["activity_type"]) == (
        "BS-ZX202210181408314977",
        "projected version 3",
        "save_order",
    )


def test_text_log_line_appends_the_order_number() -> None:
    line = TextFormatter("%(message)s").format(record(order_no="BS-ZX202210181408314977"))
    assert line == "projected version 3 order_no=BS-ZX202210181408314977"


def test_log_line_without_an_order_has_no_order_field() -> None:
    assert "order_no" not in json.loads(
        JsonFormatter().format(record(temporal_activity={"workflow_id": "bench-1"}))
    )


def test_worker_runtime_serves_prometheus_metrics() -> None:
    port = free_port()
    runtime = runtime_for(Settings(worker_metrics_port=port))
    assert runtime is not None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200


def test_worker_metrics_can_be_turned_off() -> None:
    assert runtime_for(Settings(worker_metrics_port=0)) is None


async def test_api_metrics_count_requests_by_route_template(api) -> None:  # type: ignore[no-untyped-def]
    await api.http.get("/api/health")
    await api.http.get("/api/orders/BS-ZX000000000000000000", headers=await api.login("leiliang"))
    text = (await api.http.get("/metrics")).text
    assert 'shop_orders_http_requests_total{method="GET",route="/api/health",status="200"}' in text
    assert 'route="/api/orders/{order_no}",status="404"' in text
    assert "shop_orders_http_request_duration_seconds_bucket" in text
