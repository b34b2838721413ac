"""One request that changes an order is one trace: the HTTP request, the Temporal client's
update, the workflow's handler, its local activity, and the e-mail the update queued down to
the SMTP conversation. The API and a worker run in-process on a client connected (like the
processes') after tracing was set up, into an in-memory exporter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_trace_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities import contracts
from api.app import create_app
from ops.tracing import start_tracing
from settings import Settings
from tests.support.http_api import Api, ok
from tests.support.samples import BUYER, REVIEWER, unique
from tests.support.smtp import SmtpSink
from worker import SANDBOXED, build_worker
from workflows.client import connect

WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def exporter(api_settings: Settings) -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    provider = start_tracing(api_settings, "shop-orders-tests", [SimpleSpanProcessor(spans)])
    assert provider is not None
    yield spans
    # OpenTelemetry keeps one provider per process: later tests' spans are dropped here.
    spans.shutdown()


@pytest.fixture
async def traced(
    exporter: InMemorySpanExporter,
    dev_server: WorkflowEnvironment,
    api_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
) -> AsyncIterator[Api]:
    """The API and a worker on a client that traces, as the processes connect it."""
    settings = api_settings.model_copy(
        update={
            "temporal_address": dev_server.client.service_client.config.target_host,
            "temporal_task_queue": unique("traced-"),
        }
    )
    client = await connect(settings)
    app = create_app(settings, temporal=client, sessions=session_maker)
    async with (
        build_worker(client, settings, session_maker, workflow_runner=SANDBOXED),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http, client, smtp_sink, settings)


async def finished(
    exporter: InMemorySpanExporter, found: Callable[[ReadableSpan], bool]
) -> ReadableSpan:
    """The first finished span ``found`` accepts, waiting for the worker to end it."""
    for _ in range(WAIT_SECONDS * 10):
        for span in exporter.get_finished_spans():
            if found(span):
                return span
        await asyncio.sleep(0.1)
    names = sorted({span.name for span in exporter.get_finished_spans()})
    raise AssertionError(f"no such span among {names}")


def ancestry(span: ReadableSpan, spans: tuple[ReadableSpan, ...]) -> list[str]:
    """The names from ``span`` up to its trace's root, following parent links."""
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    names = [span.name]
    parent = span.parent
    while parent is not None:
        above = by_id.get(parent.span_id)
        assert above is not None, f"{names[-1]}'s parent is not among the spans: broken trace"
        names.append(above.name)
        parent = above.parent
    return names


def without_fastapi_operations(names: list[str]) -> list[str]:
    """FastAPI's spans for dependencies and the endpoint sit between the request and the
    client call; the test is about the hops between processes and Temporal."""
    return [name for name in names if not name.startswith("fastapi.")]


async def test_returning_an_order_is_one_trace_from_http_to_the_smtp_send(
    traced: Api, exporter: InMemorySpanExporter, smtp_sink: SmtpSink
) -> None:
    buyer = await traced.login(BUYER.username)
    reviewer = await traced.login(REVIEWER.username)
    order_no = (await traced.place(buyer))["order_no"]

    path = f"/api/admin/orders/{order_no}/return"
    await ok(traced.http.post(path, json={"reason": "抬头有误"}, headers=reviewer))

    smtp = await finished(
        exporter,
        lambda s: s.name == "smtp send" and (s.attributes or {}).get("shop.order_no") == order_no,
    )
    await finished(
        exporter,
        lambda s: s.name == f"RunActivity:{contracts.SEND_EMAIL}" and s.end_time is not None,
    )
    spans = exporter.get_finished_spans()
    assert (smtp.attributes or {})["shop.template"] == "order_returned"

    chain = without_fastapi_operations(ancestry(smtp, spans))
    assert chain[:3] == [
        "smtp send",
        f"RunActivity:{contracts.SEND_EMAIL}",
        f"StartActivity:{contracts.SEND_EMAIL}",
    ]
    update = chain[3].removeprefix("HandleUpdate:")
    assert chain[3:] == [
        f"HandleUpdate:{update}",
        f"StartWorkflowUpdate:{update}",
        "POST /api/admin/orders/{order_no}/return",
    ]
    request = next(
        s for s in spans if s.name == chain[-1] and (s.attributes or {}).get("url.path") == path
    )
    trace_id = request.context.trace_id

    # The update's local activity (the projection write) hangs off the same handler.
    saved = [
        s
        for s in spans
        if s.name == f"RunActivity:{contracts.SAVE_CHANGE}"
        and (s.attributes or {}).get("temporalWorkflowID") == order_no
        and s.context.trace_id == trace_id
    ]
    assert len(saved) == 1
    assert without_fastapi_operations(ancestry(saved[0], spans))[1:] == [
        f"StartActivity:{contracts.SAVE_CHANGE}",
        f"HandleUpdate:{update}",
        f"StartWorkflowUpdate:{update}",
        "POST /api/admin/orders/{order_no}/return",
    ]

    # Every span of this order since the request is in that one trace.
    about_the_order = [
        s
        for s in spans
        if s.start_time is not None
        and request.start_time is not None
        and s.start_time >= request.start_time
        and order_no
        in {
            (s.attributes or {}).get("temporalWorkflowID"),
            (s.attributes or {}).get("shop.order_no"),
        }
    ]
    assert len(about_the_order) >= 6
    assert {s.context.trace_id for s in about_the_order} == {trace_id}
    assert smtp_sink.subjects(order_no)


async def test_development_writes_the_spans_to_traces_jsonl(
    traced: Api, exporter: InMemorySpanExporter, api_settings: Settings
) -> None:
    response = await traced.http.get("/api/health")
    assert response.status_code == 200
    request = await finished(
        exporter, lambda s: (s.attributes or {}).get("url.path") == "/api/health"
    )
    from opentelemetry import trace

    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    traces_file = api_settings.effective_traces_file
    assert traces_file is not None
    lines = [json.loads(line) for line in traces_file.read_text().splitlines()]
    trace_id = "0x" + format_trace_id(request.context.trace_id)
    assert any(line["context"]["trace_id"] == trace_id for line in lines)
