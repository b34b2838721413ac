"""The worker's e-mails share kept SMTP connections: one EHLO for many messages, and a
connection the server dropped meanwhile costs no attempt (the message goes on a new one)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from activities.smtp import SmtpConnections
from devstack.processes import free_port
from settings import Settings


class CountingSink:
    def __init__(self) -> None:
        self.greetings = 0
        self.subjects: list[str] = []

    async def handle_EHLO(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        text = envelope.content.decode()
        self.subjects.append(next(x for x in text.splitlines() if x.startswith("Subject:")))
        return "250 OK"


def _message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "noreply@example.com"
    message["To"] = "buyer@example.com"
    message["Subject"] = subject
    message.set_content("正文")
    return message


class Server:
    """The sink on a fixed port that can go away and come back (a new controller each
    time, as aiosmtpd's cannot start twice)."""

    def __init__(self, handler: CountingSink) -> None:
        self.handler = handler
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def sink() -> Iterator[tuple[CountingSink, Server]]:
    handler = CountingSink()
    server = Server(handler)
    server.start()
    yield handler, server
    server.stop()


async def test_messages_share_one_connection_and_a_dropped_one_is_replaced(
    sink: tuple[CountingSink, Server],
) -> None:
    handler, server = sink
    settings = Settings(smtp_host="127.0.0.1", smtp_port=server.port)
    smtp = SmtpConnections(settings)

    for n in range(3):
        await smtp.send(_message(f"one-{n}"))
    assert handler.greetings == 1

    # The server goes away and comes back: the kept connection is dead.
    server.stop()
    server.start()
    await smtp.send(_message("after-restart"))
    await smtp.close()

    assert handler.subjects == [f"Subject: one-{n}" for n in range(3)] + ["Subject: after-restart"]
    assert handler.greetings == 2


async def test_a_server_that_is_down_fails_the_send(sink: tuple[CountingSink, Server]) -> None:
    handler, server = sink
    smtp = SmtpConnections(Settings(smtp_host="127.0.0.1", smtp_port=server.port))
    await smtp.send(_message("first"))
    server.stop()

    # What MailActivities.deliver treats as "retry later".
    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await smtp.send(_message("while-down"))

    server.start()
    await smtp.send(_message("back"))
    await smtp.close()
    assert handler.subjects == ["Subject: first", "Subject: back"]
