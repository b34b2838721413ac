"""SMTP connections kept open and reused by the worker's e-mails, instead of a connect,
EHLO, (STARTTLS, AUTH) and QUIT for every message: most of what an e-mail cost the worker
and the relay (make bench profiles it).

A connection is used by one message at a time and put back when the server took the
message; after any error it is closed, never reused. A kept connection the server has
dropped meanwhile (idle timeout, restart) is noticed by a NOOP before it is used, and a new
one is opened: a message is never sent twice by this module.
"""

from __future__ import annotations

import contextlib
from email.message import EmailMessage

import aiosmtplib

from settings import Settings

TIMEOUT_S = 20
# Idle connections kept; more e-mails at once open more, closed again when done.
KEEP = 4


class SmtpConnections:
    def __init__(self, settings: Settings, keep: int = KEEP) -> None:
        self._settings = settings
        self._keep = keep
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, message: EmailMessage) -> None:
        # Sent once: a connection that fails mid-message may have delivered it already, so
        # the retry is the activity's own (its outbox row records the attempt), never here.
        client = await self._take()
        try:
            await client.send_message(message)
        except BaseException:
            await _close(client)
            raise
        await self._give_back(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _close(client)

    async def _take(self) -> aiosmtplib.SMTP:
        """A kept connection that still answers (NOOP: a server that dropped it meanwhile is
        noticed before any message is sent on it), else a new one."""
        while self._idle:
            client = self._idle.pop()
            if await _answers(client):
                return client
            await _close(client)
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host or "127.0.0.1",
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_use_tls,
            timeout=TIMEOUT_S,
        )
        await client.connect()
        return client

    async def _give_back(self, client: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self._keep and client.is_connected:
            self._idle.append(client)
        else:
            await _close(client)


async def _answers(client: aiosmtplib.SMTP) -> bool:
    if not client.is_connected:
        return False
    try:
        await client.noop()
    except (aiosmtplib.SMTPException, OSError):
        return False
    return True


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT when the server still listens; drop the socket either way."""
    if client.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
    client.close()
