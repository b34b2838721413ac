"""A local SMTP server that keeps every message as an .eml file (development and tests).

`python -m devstack.mail_catcher DIR PORT` serves on 127.0.0.1:PORT until terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import uuid
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def eml_name(content: bytes, received_at: datetime) -> str:
    """`<UTC timestamp>-<sanitized Message-ID>.eml`: sorting the names sorts by arrival."""
    message_id = str(BytesHeaderParser().parsebytes(content).get("Message-ID", ""))
    safe_id = _UNSAFE.sub("_", message_id).strip("_.")[:100] or uuid.uuid4().hex
    return f"{received_at:%Y%m%dT%H%M%S%fZ}-{safe_id}.eml"


class EmlWriter:
    """aiosmtpd handler: accepts every message and writes it to ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content: bytes = envelope.original_content or envelope.content
        target = self.directory / eml_name(content, datetime.now(UTC))
        # Written aside and renamed, so a reader never sees half a message.
        partial = target.with_name(f".{target.name}.part")
        partial.write_bytes(content)
        os.replace(partial, target)
        return "250 Message accepted for delivery"


def start_mail_catcher(directory: Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Listen on ``host:port`` in a background thread; ``.stop()`` the result to end it."""
    controller = Controller(EmlWriter(directory), hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller


async def _serve(directory: Path, port: int) -> None:
    controller = start_mail_catcher(directory, "127.0.0.1", port)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(Path(sys.argv[1]), int(sys.argv[2])))
