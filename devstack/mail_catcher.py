"""A local SMTP server that keeps every message as a .eml file (development only).

`python -m devstack.mail_catcher DIR PORT`
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class EmlWriter:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content: bytes = envelope.original_content or envelope.content
        message = message_from_bytes(content, policy=policy.default)
        message_id = re.sub(r"[^A-Za-z0-9._-]", "_", str(message.get("Message-ID", "")))[:80]
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}-{message_id or 'message'}.eml"
        (self.directory / name).write_bytes(content)
        return "250 Message accepted"


def start_mail_catcher(directory: Path, host: str, port: int) -> Controller:
    controller = Controller(EmlWriter(directory), hostname=host, port=port)
    controller.start()
    return controller


async def _serve(directory: Path, port: int) -> None:
    controller = start_mail_catcher(directory, "127.0.0.1", port)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    try:
        asyncio.run(_serve(Path(sys.argv[1]), int(sys.argv[2])))
    except KeyboardInterrupt:
        pass
