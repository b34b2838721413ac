"""How much a buyer may upload: proofs an hour, and bytes kept at once.

Without these a buyer could fill the disk: every upload is written before the workflow
decides, and a correction may replace a proof as often as the refund is returned.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict, deque
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Problem
from api.services import proofs
from db import models
from settings import Settings

HOUR_SECONDS = 3600.0
MIB = 1024 * 1024


class UploadRate:
    """Proof uploads per buyer in the last hour, counted by this API process (a second
    instance counts its own; the byte quota below holds across instances)."""

    def __init__(self) -> None:
        self._uploads: defaultdict[str, deque[float]] = defaultdict(deque)

    def take(self, buyer: str, limit: int, now: float | None = None) -> None:
        """Count one upload, or answer 429 with when the oldest one leaves the hour."""
        now = time.monotonic() if now is None else now
        recent = self._uploads[buyer]
        while recent and recent[0] <= now - HOUR_SECONDS:
            recent.popleft()
        if len(recent) >= limit:
            wait = max(1, math.ceil(recent[0] + HOUR_SECONDS - now))
            minutes = math.ceil(wait / 60)
            raise Problem(
                429,
                f"上传退款证明过于频繁：每小时最多 {limit} 次，请 {minutes} 分钟后再试",
                code="too_many_uploads",
                headers={"Retry-After": str(wait)},
            )
        recent.append(now)


async def stored_bytes(session: AsyncSession, directory: Path, buyer: str) -> int:
    """The buyer's proofs on disk: those their refunds name and those held for an answer."""
    documents = await session.scalars(
        select(models.Refund.data).where(models.Refund.buyer == buyer)
    )
    named = sum(int((d.get("proof") or {}).get("size", 0)) for d in documents)
    return named + await asyncio.to_thread(proofs.pending_bytes, directory, buyer)


async def check_quota(session: AsyncSession, settings: Settings, buyer: str, incoming: int) -> None:
    quota = settings.proof_quota_bytes
    if await stored_bytes(session, settings.proof_dir, buyer) + incoming > quota:
        raise Problem(
            413,
            f"退款证明存储已满：每位买家最多保存 {quota / MIB:g} MB，请联系客服处理",
            code="proof_quota_exceeded",
        )
