"""Argon2 work with a cap per process: each check holds 64 MiB for a moment, so a burst of
sign-ins waits for a free slot (briefly) instead of growing memory without bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from api.errors import Problem
from db.passwords import hash_password, verify_password
from settings import Settings

BUSY_RETRY_AFTER_SECONDS = 1


class PasswordChecks:
    def __init__(self, settings: Settings) -> None:
        self._slots = asyncio.Semaphore(settings.password_checks_at_once)
        self._wait_seconds = settings.password_check_wait_seconds

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise Problem(
                503,
                "登录请求过多，请稍后重试",
                code="sign_in_busy",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
            ) from None
        try:
            yield
        finally:
            self._slots.release()

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._slot():
            return await asyncio.to_thread(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        async with self._slot():
            return await asyncio.to_thread(hash_password, password)


def password_checks(request: Request) -> PasswordChecks:
    """The process's one gate, made by ``create_app``."""
    checks: PasswordChecks = request.app.state.password_checks
    return checks
