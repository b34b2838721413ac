"""Structured logs: one JSON object a line, carrying the order number wherever there is one.

Temporal's activity and workflow loggers attach their run context to each record; the
workflow id of a shop order *is* its order number, so it is lifted to ``order_no``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from domain.ids import ORDER_NO_PATTERN


def order_no_of(record: logging.LogRecord) -> str | None:
    for attribute in ("temporal_activity", "temporal_workflow"):
        context: dict[str, Any] = getattr(record, attribute, None) or {}
        workflow_id = context.get("workflow_id")
        if isinstance(workflow_id, str) and ORDER_NO_PATTERN.match(workflow_id):
            return workflow_id
    explicit = getattr(record, "order_no", None)
    return explicit if isinstance(explicit, str) else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        order_no = order_no_of(record)
        if order_no:
            entry["order_no"] = order_no
        for attribute in ("temporal_activity", "temporal_workflow"):
            context = getattr(record, attribute, None)
            if context:
                entry[attribute.removeprefix("temporal_")] = {
                    k: v
                    for k, v in context.items()
                    if k in ("activity_type", "workflow_type", "attempt", "run_id")
                }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        order_no = order_no_of(record)
        line = super().format(record)
        return f"{line} order_no={order_no}" if order_no and order_no not in line else line


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
