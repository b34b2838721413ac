"""The logging setup of the API and the worker: one JSON object a line (``LOG_FORMAT=json``)
or plain text, carrying the trace, the order number and the ``extra=`` fields.

- ``trace_id``/``span_id``: the current OpenTelemetry span's, when there is one (``ops.tracing``),
  so a line leads to its trace and a trace to its lines.
- ``order_no``: Temporal's activity and workflow loggers attach their run context to each
  record, and the workflow id of a shop order *is* its order number; in the API, a request
  whose route has an ``{order_no}`` (or a ``{refund_id}``, derived from its order's number)
  names it (``OrderOfTheRequest``); an explicit
  ``extra={"order_no": …}`` also counts.
- uvicorn's own loggers, the access log included, go through the same handler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.ids import ORDER_NO_PATTERN, REFUND_ID_PATTERN, order_no_of_refund

# The ASGI scope of the request being answered: its route's path parameters appear in it
# once the router has matched (the router updates this very dict).
_current_request: ContextVar[MutableMapping[str, Any] | None] = ContextVar("request", default=None)
# What every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
_TEMPORAL_CONTEXTS = ("temporal_activity", "temporal_workflow")
# Shown of Temporal's run context: the rest (ids, queue, namespace) is noise on every line.
_TEMPORAL_FIELDS = ("activity_type", "workflow_type", "attempt", "run_id")
# Loggers uvicorn configures with handlers of their own before it loads the app.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class OrderOfTheRequest:
    """ASGI middleware: the lines logged while a request about one order is answered name
    it, the endpoint's and uvicorn's access line alike. The route is matched inside, so the
    order number is read from the request's scope when a line is written."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current_request.set(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _current_request.reset(token)


def order_no_of_request() -> str | None:
    """The order the current request's route names: its ``{order_no}``, or the order a
    ``{refund_id}`` belongs to."""
    scope = _current_request.get()
    params = (scope or {}).get("path_params", {})
    order_no, refund_id = params.get("order_no"), params.get("refund_id")
    if isinstance(order_no, str) and ORDER_NO_PATTERN.match(order_no):
        return order_no
    if isinstance(refund_id, str) and REFUND_ID_PATTERN.match(refund_id):
        return order_no_of_refund(refund_id)
    return None


def order_no_of(record: logging.LogRecord) -> str | None:
    for attribute in _TEMPORAL_CONTEXTS:
        context: dict[str, Any] = getattr(record, attribute, None) or {}
        workflow_id = context.get("workflow_id")
        if isinstance(workflow_id, str) and ORDER_NO_PATTERN.match(workflow_id):
            return workflow_id
    explicit = getattr(record, "order_no", None)
    if isinstance(explicit, str):
        return explicit
    return order_no_of_request()


def trace_ids() -> dict[str, str]:
    """The current span's trace and span ids as hex, as trace viewers show them; empty
    outside a recorded span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(context.trace_id),
        "span_id": trace.format_span_id(context.span_id),
    }


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` fields of a record (those it does not have by itself)."""
    return {
        name: value
        for name, value in vars(record).items()
        if name not in _STANDARD_ATTRIBUTES
        and name not in _TEMPORAL_CONTEXTS
        and name != "order_no"
        and not name.startswith("_")
    }


def access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line, taken apart: client, method, path, status."""
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, _, status = args
    return {"client": client, "method": method, "path": path, "status": status}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= trace_ids()
        order_no = order_no_of(record)
        if order_no:
            entry["order_no"] = order_no
        for attribute in _TEMPORAL_CONTEXTS:
            context = getattr(record, attribute, None)
            if context:
                entry[attribute.removeprefix("temporal_")] = {
                    k: v for k, v in context.items() if k in _TEMPORAL_FIELDS
                }
        entry |= access_fields(record)
        # The line's own fields win over an extra of the same name.
        entry = extra_fields(record) | entry
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        order_no = order_no_of(record)
        if order_no and order_no not in line:
            line += f" order_no={order_no}"
        trace_id = trace_ids().get("trace_id")
        return f"{line} trace_id={trace_id}" if trace_id else line


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The process's one handler on the root logger; uvicorn's loggers lose their own
    handlers and pass their lines to it, so the access log has the same format."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
