"""Where spans go, as the settings say: a JSON-lines file (development), OTLP/HTTP to a
collector (when an endpoint is set), or nowhere (production's default, OTEL_SDK_DISABLED)."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from ops.tracing import EvictionDetachNoise, JsonLinesSpanExporter, span_processors
from settings import Settings
from tests.support.keys import TEST_PAYLOAD_KEYS


def production(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        environment="production",
        jwt_secret=secrets.token_urlsafe(48),
        payload_keys=TEST_PAYLOAD_KEYS,
        data_dir=tmp_path,
        **overrides,
    )


def development(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        environment="development", payload_keys=TEST_PAYLOAD_KEYS, data_dir=tmp_path, **overrides
    )


def spans_through(processors: list[SpanProcessor], *names: str) -> None:
    """Make the named spans on a provider of their own with these processors, flushed."""
    provider = TracerProvider()
    for processor in processors:
        provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    for name in names:
        with tracer.start_as_current_span(name, attributes={"shop.order_no": "BS-1"}):
            pass  # an empty span: its start, end and attributes are what gets exported
    provider.shutdown()


def test_production_without_a_collector_traces_nothing(tmp_path: Path) -> None:
    settings = production(tmp_path)
    assert settings.effective_traces_file is None
    assert span_processors(settings) == []


def test_sdk_disabled_turns_off_the_file_and_the_collector(tmp_path: Path) -> None:
    settings = development(
        tmp_path, otel_sdk_disabled=True, otel_exporter_otlp_endpoint="http://127.0.0.1:1"
    )
    assert span_processors(settings) == []


def test_otlp_endpoint_is_the_opentelemetry_variables(tmp_path: Path) -> None:
    general = production(tmp_path, otel_exporter_otlp_endpoint="http://collector:4318/")
    assert general.otlp_traces_endpoint == "http://collector:4318/v1/traces"
    exact = production(
        tmp_path,
        otel_exporter_otlp_endpoint="http://collector:4318",
        otel_exporter_otlp_traces_endpoint="http://tempo:4318/otlp/v1/traces",
    )
    assert exact.otlp_traces_endpoint == "http://tempo:4318/otlp/v1/traces"


def test_development_writes_one_span_a_line(tmp_path: Path) -> None:
    settings = development(tmp_path)
    spans_through(span_processors(settings), "first", "second")
    lines = (tmp_path / "traces.jsonl").read_text().splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["first", "second"]


def test_api_and_worker_append_whole_lines_to_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    api, worker = JsonLinesSpanExporter(path), JsonLinesSpanExporter(path)
    provider = TracerProvider()
    tracer = provider.get_tracer("test")
    spans = []
    for index in range(200):
        with tracer.start_as_current_span(f"span-{index}", attributes={"x": "y" * 2000}) as span:
            pass  # empty on purpose: only the size of what is exported matters
        spans.append(span)
    threads = [
        threading.Thread(target=exporter.export, args=(spans[half::2],))
        for half, exporter in enumerate((api, worker))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    api.shutdown()
    worker.shutdown()
    names = sorted(json.loads(line)["name"] for line in path.read_text().splitlines())
    assert names == sorted(f"span-{index}" for index in range(200))


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps what it is sent."""

    received: ClassVar[list[tuple[str, ExportTraceServiceRequest]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.received.append((self.path, request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, ExportTraceServiceRequest]]]]:
    server = HTTPServer(("127.0.0.1", 0), Collector)
    Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Collector.received
    server.shutdown()


def test_production_sends_spans_to_the_configured_collector(
    tmp_path: Path, collector: tuple[str, list[tuple[str, ExportTraceServiceRequest]]]
) -> None:
    endpoint, received = collector
    settings = production(tmp_path, otel_exporter_otlp_endpoint=endpoint)
    spans_through(span_processors(settings), "smtp send")
    [(path, request)] = received
    [span] = [
        span
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert (path, span.name) == ("/v1/traces", "smtp send")
    assert not list(tmp_path.iterdir())  # and no file in production


def detach_failure(context: BaseException) -> logging.LogRecord:
    try:
        try:
            raise context
        except BaseException:
            raise ValueError("<Token> was created in a different Context") from None
    except ValueError as error:
        error.__context__ = context
        return logging.LogRecord(
            "opentelemetry.context",
            logging.ERROR,
            __file__,
            1,
            "Failed to detach context",
            None,
            (ValueError, error, error.__traceback__),
        )


def test_a_workflow_evicted_from_the_cache_logs_no_detach_error() -> None:
    noise = EvictionDetachNoise()
    assert not noise.filter(detach_failure(GeneratorExit()))
    assert noise.filter(detach_failure(RuntimeError("a real mix-up of contexts")))
