"""Delete refund proofs no refund names, once they are older than the grace period.

Uploads are held under ``pending/`` until the workflow answers; the API keeps or deletes them
itself, so what is left is what a crash interrupted (kept here if its refund was accepted),
and proofs a correction replaced. The API runs this at start and then periodically.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.services import proofs
from db import models
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    kept: int
    deleted: int


async def named_proofs(session: AsyncSession) -> set[str]:
    """Every proof key a refund names."""
    key = models.Refund.data["proof"]["key"].as_string()
    return {k for k in await session.scalars(select(key).where(key.is_not(None))) if k}


async def sweep(
    sessions: async_sessionmaker[AsyncSession],
    directory: Path,
    grace_seconds: float,
    now: float | None = None,
) -> Swept:
    # Read before looking at the files: a file kept after this read is younger than the grace.
    async with sessions() as session:
        named = await named_proofs(session)
    cutoff = (time.time() if now is None else now) - grace_seconds
    swept = await asyncio.to_thread(_sweep_files, directory, named, cutoff)
    if swept.kept or swept.deleted:
        log.info("proof sweep: %d kept from pending, %d deleted", swept.kept, swept.deleted)
    return swept


def _sweep_files(directory: Path, named: set[str], cutoff: float) -> Swept:
    kept = deleted = 0
    for held in sorted(directory.glob(f"{proofs.PENDING}/*/*")):
        if not held.is_file() or held.stat().st_mtime > cutoff:
            continue
        match = proofs.PENDING_NAME.match(held.name)
        if match is not None and match["key"] in named:
            proofs.keep(held, directory=directory)
            kept += 1
        else:
            proofs.discard(held)
            deleted += 1
    if directory.is_dir():
        for stored in sorted(directory.iterdir()):
            if stored.is_file() and stored.name not in named and stored.stat().st_mtime <= cutoff:
                stored.unlink(missing_ok=True)
                deleted += 1
    return Swept(kept=kept, deleted=deleted)


async def sweep_periodically(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """At start, then four times per grace period, until cancelled."""
    grace = settings.proof_orphan_grace_seconds
    while True:
        try:
            await sweep(sessions, settings.proof_dir, grace)
        except Exception:  # the database may be away; the next round tries again
            log.warning("proof sweep failed; trying again later", exc_info=True)
        await asyncio.sleep(grace / 4)
