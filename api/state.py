"""What the app holds between requests: settings, the session factory, the Temporal client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.card_cipher import CardCipher
from api.errors import RETRY_LATER, Problem
from api.services.proof_limits import UploadRate
from api.worker_presence import WorkerPresence
from settings import Settings
from workflows.client import connect

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5


class TemporalConnection:
    """The Temporal client, connected at startup or, when Temporal was down then, on first use.

    The API starts and answers (503, health) while Temporal is away, instead of crash-looping.
    """

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                        self._client = await connect(self._settings)
                except (RuntimeError, OSError, TimeoutError) as error:
                    # Client.connect reports an unreachable server as RuntimeError.
                    log.warning("cannot reach Temporal: %s", error)
                    raise Problem(
                        503, f"工作流服务（Temporal）暂时不可用；{RETRY_LATER}"
                    ) from error
            return self._client


@dataclass(frozen=True)
class AppState:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalConnection
    card_cipher: CardCipher
    uploads: UploadRate = field(default_factory=UploadRate)
    workers: WorkerPresence = field(default_factory=WorkerPresence)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.shop_orders
    return state


def get_settings(request: Request) -> Settings:
    return app_state(request).settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with app_state(request).sessions() as session:
        yield session


def get_card_cipher(request: Request) -> CardCipher:
    return app_state(request).card_cipher


def get_upload_rate(request: Request) -> UploadRate:
    return app_state(request).uploads


async def get_temporal(request: Request) -> Client:
    return await app_state(request).temporal.client()
