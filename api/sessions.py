"""Server-side sign-in sessions: what makes a signed token revocable.

Every token carries a session id (``sid``); every authenticated request reads that session's
row by its primary key and refuses the token when the row is revoked (sign-out, password
change, disabled account, changed role), past its absolute expiry (``JWT_TTL_MINUTES``) or,
for a web sign-in, idle for longer than ``WEB_SESSION_IDLE_MINUTES``. Use renews a web
session (sliding); the row's ``last_seen_at`` is rewritten at most once a minute, so most
requests cost one indexed read and no write.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import SignInSession
from settings import Settings

API = "api"  # a bearer token: lives until its expiry unless revoked
WEB = "web"  # the web sign-in cookie: also ends when idle
TOUCH_INTERVAL = timedelta(minutes=1)


async def start(
    db: AsyncSession, settings: Settings, *, username: str, kind: str, now: datetime
) -> str:
    """A new session of ``username``; its id. The account's finished sessions are dropped."""
    await db.execute(
        delete(SignInSession).where(
            SignInSession.username == username, SignInSession.expires_at < now
        )
    )
    session_id = secrets.token_urlsafe(32)
    db.add(
        SignInSession(
            id=session_id,
            username=username,
            kind=kind,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(minutes=settings.jwt_ttl_minutes),
            revoked_at=None,
        )
    )
    await db.commit()
    return session_id


def is_live(row: SignInSession, settings: Settings, *, now: datetime) -> bool:
    if row.revoked_at is not None or row.expires_at <= now:
        return False
    idle_limit = timedelta(minutes=settings.web_session_idle_minutes)
    return not (row.kind == WEB and now - row.last_seen_at > idle_limit)


async def check(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    session_id: str,
    *,
    now: datetime,
) -> bool:
    """Whether the session is live; a live one is marked seen (at most once a minute)."""
    async with sessions() as db:
        row = await db.get(SignInSession, session_id)
        if row is None or not is_live(row, settings, now=now):
            return False
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            await db.execute(
                update(SignInSession).where(SignInSession.id == session_id).values(last_seen_at=now)
            )
            await db.commit()
        return True


async def end(db: AsyncSession, session_id: str, *, now: datetime) -> None:
    """Sign-out: this session stops working at once."""
    await db.execute(
        update(SignInSession)
        .where(SignInSession.id == session_id, SignInSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await db.commit()
