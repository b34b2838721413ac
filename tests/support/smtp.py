"""An in-process SMTP server (aiosmtpd handler) that keeps every message it receives."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def for_order(self, order_no: str) -> list[EmailMessage]:
        return [m for m in self.messages if order_no in m.get_body(("plain",)).get_content()]  # type: ignore[union-attr]

    def subjects(self, order_no: str) -> list[str]:
        return [str(m["Subject"]) for m in self.for_order(order_no)]
