"""The fault injectors besides killing processes (tests.support.stack does that): a TCP
proxy in front of PostgreSQL that can be cut, and an SMTP server that refuses or goes away
on request. Both run in threads of their own, so they keep answering while the test's event
loop waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller

from devstack.processes import free_port

# --- a TCP proxy that can be cut -------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to an upstream server. ``cut()`` stops listening (new
    connections are refused) and resets every open connection, as a database that crashed
    or a network that dropped; ``restore()`` listens again on the same port."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.accepted = 0
        self.reset = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        self._open |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            # A reset or a cut ends the pipe like end of file; either way both sides close.
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            target.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open -= {writer, up_writer}

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
            self.reset += 1
        self._open.clear()

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


# --- an SMTP server that refuses or goes away ------------------------------------------------


@dataclass
class Delivery:
    outbox_key: str
    message_id: str
    subject: str
    at: float


class FlakySmtp:
    """aiosmtpd server keeping what it accepted. ``refuse(prefix, code, times)`` answers the
    next ``times`` messages whose X-Outbox-Key starts with ``prefix`` with ``code`` (e.g. 451
    or 554) at the end of DATA; ``stop()``/``start()`` take the port away and back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.deliveries: list[Delivery] = []
        self.refused: Counter[str] = Counter()
        self._plans: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> FlakySmtp:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, prefix: str, reply: str, times: int) -> None:
        with self._lock:
            self._plans[prefix] = [reply] * times

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        key = str(message.get("X-Outbox-Key", ""))
        with self._lock:
            for prefix, plan in self._plans.items():
                if key.startswith(prefix) and plan:
                    self.refused[key] += 1
                    return plan.pop(0)
            self.deliveries.append(
                Delivery(
                    key, str(message.get("Message-ID", "")), str(message["Subject"]), time.time()
                )
            )
        return "250 OK"

    def delivered(self, prefix: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.outbox_key.startswith(prefix)]
