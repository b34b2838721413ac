"""Traces: one per request, from the HTTP call through the Temporal client, the workflow
update and its local activities to the e-mail sent.

The API and the worker set up the same tracer provider here, once per process: spans go as
JSON lines to a file (development: ``DATA_DIR/traces.jsonl``) and by OTLP/HTTP when an OTLP
endpoint is configured. With neither (production's default) or ``OTEL_SDK_DISABLED=true``
nothing is set up: OpenTelemetry stays the API's no-op, FastAPI's telemetry stays off and
the Temporal client gets no tracing plugin (``workflows.client``).

The provider is Temporal's replay-safe one: span ids made inside a workflow come from the
workflow's seeded randomness and a replayed workflow task ends no span a second time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider, create_tracer_provider

from settings import Settings

API_SERVICE = "shop-orders-api"
WORKER_SERVICE = "shop-orders-worker"


class JsonLinesSpanExporter(SpanExporter):
    """One finished span a line, appended to a file the API and the worker share.

    Each line goes out in one ``write`` on an ``O_APPEND`` descriptor, so lines of the two
    processes interleave whole instead of mixing."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._fd is None:
            return SpanExportResult.FAILURE
        for span in spans:
            os.write(self._fd, (span.to_json(indent=None) + "\n").encode())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class EvictionDetachNoise(logging.Filter):
    """Drops OpenTelemetry's "Failed to detach context" when a workflow evicted from the
    worker's cache is closed: the plugin's workflow spans end in a context other than the
    one they attached to, and the error says nothing (temporalio/sdk-python#441)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (
            record.getMessage() == "Failed to detach context"
            and error is not None
            and isinstance(error.__context__, GeneratorExit)
        )


def span_processors(settings: Settings) -> list[SpanProcessor]:
    """Where this process's spans go, as the settings say; empty when nowhere."""
    if settings.otel_sdk_disabled:
        return []
    processors: list[SpanProcessor] = []
    traces_file = settings.effective_traces_file
    if traces_file is not None:
        processors.append(BatchSpanProcessor(JsonLinesSpanExporter(traces_file)))
    if settings.otlp_traces_endpoint:
        # Headers, timeout and compression still come from the OTEL_EXPORTER_OTLP_* variables.
        exporter = OTLPSpanExporter(endpoint=settings.otlp_traces_endpoint)
        processors.append(BatchSpanProcessor(exporter))
    return processors


def start_tracing(
    settings: Settings, service: str, extra: Sequence[SpanProcessor] = ()
) -> ReplaySafeTracerProvider | None:
    """Make this process trace (the global tracer provider) when the settings send spans
    anywhere, or ``extra`` processors are given (tests); None when tracing stays off.

    A second call in the same process adds its processors to the provider already set:
    OpenTelemetry allows one global provider per process."""
    processors = [*span_processors(settings), *extra]
    if settings.otel_sdk_disabled or not processors:
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, ReplaySafeTracerProvider):
        provider = current
    else:
        provider = create_tracer_provider(resource=Resource.create({SERVICE_NAME: service}))
        trace.set_tracer_provider(provider)
        logging.getLogger("opentelemetry.context").addFilter(EvictionDetachNoise())
    for processor in processors:
        provider.add_span_processor(processor)
    return provider
