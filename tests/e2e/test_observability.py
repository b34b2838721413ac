"""Structured logs carry the order number, the trace and the extra fields; the worker exposes
Temporal's metrics."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id

from devstack.processes import free_port
from domain.ids import refund_id_for
from ops.logs import (
    UVICORN_LOGGERS,
    JsonFormatter,
    OrderOfTheRequest,
    TextFormatter,
    configure_logging,
)
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


def test_json_log_line_carries_the_current_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        entry = json.loads(JsonFormatter().format(record()))
    context = span.get_span_context()
    assert (entry["trace_id"], entry["span_id"]) == (
        format_trace_id(context.trace_id),
        format_span_id(context.span_id),
    )


def test_json_log_line_outside_a_trace_has_no_trace_fields() -> None:
    entry = json.loads(JsonFormatter().format(record()))
    assert "trace_id" not in entry and "span_id" not in entry


def test_json_log_line_keeps_the_extra_fields() -> None:
    entry = json.loads(
        JsonFormatter().format(
            record(notice_failed="order_returned", attempts=3, at_path=Path("/tmp/x"))
        )
    )
    assert (entry["notice_failed"], entry["attempts"], entry["at_path"]) == (
        "order_returned",
        3,
        "/tmp/x",
    )
    assert entry["message"] == "projected version 3"


async def test_the_lines_of_a_request_about_an_order_name_it_once_its_route_matched() -> None:
    lines: list[dict[str, object]] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        lines.append(json.loads(JsonFormatter().format(record())))  # before routing
        scope["path_params"] = {"order_no": "BS-ZX202210181408314977"}  # as the router does
        lines.append(json.loads(JsonFormatter().format(record())))

    async def nothing() -> dict[str, object]:
        return {}

    async def ignore(message: object) -> None:
        return None

    await OrderOfTheRequest(app)({"type": "http", "path": "/"}, nothing, ignore)
    assert [line.get("order_no") for line in lines] == [None, "BS-ZX202210181408314977"]

    async def refund_route(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        scope["path_params"] = {"refund_id": refund_id_for("BS-ZX202210181408314977")}
        lines.append(json.loads(JsonFormatter().format(record())))

    await OrderOfTheRequest(refund_route)({"type": "http", "path": "/"}, nothing, ignore)
    assert lines[-1]["order_no"] == "BS-ZX202210181408314977"
    assert "order_no" not in json.loads(JsonFormatter().format(record()))


def test_uvicorn_access_line_is_taken_apart() -> None:
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/api/admin/orders/BS-1/return", "1.1", 200),
        None,
    )
    entry = json.loads(JsonFormatter().format(access))
    assert {k: entry[k] for k in ("client", "method", "path", "status")} == {
        "client": "127.0.0.1:5000",
        "method": "POST",
        "path": "/api/admin/orders/BS-1/return",
        "status": 200,
    }


def test_text_log_line_appends_the_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        line = TextFormatter("%(message)s").format(record())
    assert (
        line == f"projected version 3 trace_id={format_trace_id(span.get_span_context().trace_id)}"
    )


def test_one_setup_routes_uvicorn_through_the_root_handler() -> None:
    root = logging.getLogger()
    kept = (root.handlers[:], root.level)
    try:
        configure_logging("json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        for name in UVICORN_LOGGERS:
            assert logging.getLogger(name).handlers == []
            assert logging.getLogger(name).propagate
    finally:
        root.handlers[:], level = kept
        root.setLevel(level)
