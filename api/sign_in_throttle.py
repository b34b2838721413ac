"""Failed sign-ins per account and per client address, and the growing lock they earn.

Kept in the database so every API replica sees the same counts. After ``max`` failures within
the window the key is locked for ``SIGN_IN_LOCKOUT_SECONDS``; each further failure doubles the
lock, up to ``SIGN_IN_LOCKOUT_MAX_SECONDS``. While locked, attempts are refused before any
password is hashed. A success clears the account's count, never the address's: otherwise one
valid account would let an address reset its count between guesses at others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SignInThrottle
from db.upsert import insert_for
from settings import Settings

ACCOUNT = "account"
ADDRESS = "address"
KEY_MAX = 128


@dataclass(frozen=True)
class Caller:
    """Who is trying to sign in: the account named and the client address it comes from."""

    username: str
    address: str

    def throttle_keys(self) -> tuple[tuple[str, str], tuple[str, str]]:
        return (ACCOUNT, self.username[:KEY_MAX]), (ADDRESS, self.address[:KEY_MAX])


def _max_failures(settings: Settings, scope: str) -> int:
    if scope == ACCOUNT:
        return settings.sign_in_max_failures
    return settings.sign_in_max_failures_per_address


def lock_seconds(settings: Settings, failures: int, max_failures: int) -> int:
    """The lock earned by the ``failures``-th failure: none below the limit, then doubling."""
    if failures < max_failures:
        return 0
    doublings = min(failures - max_failures, 32)
    lock = settings.sign_in_lockout_seconds * 2**doublings
    return min(lock, settings.sign_in_lockout_max_seconds)


async def seconds_locked(
    db: AsyncSession, settings: Settings, caller: Caller, *, now: datetime
) -> int:
    """How long the account or the address stays locked (the longer); 0 when neither is."""
    longest = 0
    for scope, key in caller.throttle_keys():
        row = await db.get(SignInThrottle, (scope, key))
        if row is not None and row.locked_until is not None and row.locked_until > now:
            longest = max(longest, math.ceil((row.locked_until - now).total_seconds()))
    return longest


async def record_failure(
    db: AsyncSession, settings: Settings, caller: Caller, *, now: datetime
) -> None:
    """Count one failure against the account and the address, locking either at its limit."""
    window = timedelta(minutes=settings.sign_in_failure_window_minutes)
    for scope, key in caller.throttle_keys():
        # Make sure the row exists, then lock it (PostgreSQL) so replicas count one by one.
        insert = insert_for(db, SignInThrottle.__table__).values(  # type: ignore[arg-type]
            scope=scope, key=key, failures=0, last_failure_at=now, locked_until=None
        )
        await db.execute(insert.on_conflict_do_nothing())
        row = await db.scalar(
            select(SignInThrottle)
            .where(SignInThrottle.scope == scope, SignInThrottle.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        if now - row.last_failure_at > window:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        seconds = lock_seconds(settings, row.failures, _max_failures(settings, scope))
        if seconds:
            row.locked_until = now + timedelta(seconds=seconds)
    # Rows nobody failed on for a whole window (and the lock past) are forgotten.
    stale = now - max(window, timedelta(seconds=settings.sign_in_lockout_max_seconds))
    await db.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at < stale))
    await db.commit()


async def clear_account(db: AsyncSession, username: str) -> None:
    await db.execute(
        delete(SignInThrottle).where(
            SignInThrottle.scope == ACCOUNT, SignInThrottle.key == username[:KEY_MAX]
        )
    )
    await db.commit()
