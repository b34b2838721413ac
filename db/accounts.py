"""Changes to an account that end its sign-ins: a new password, disabling, a new role.

Ending a sign-in means revoking its ``sign_in_sessions`` row, which every authenticated
request reads; the change and the revocation commit together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SignInSession, User
from domain.statuses import Role


async def end_sessions(
    db: AsyncSession, username: str, *, now: datetime, keep: str | None = None
) -> None:
    """Revoke every live session of ``username`` except ``keep`` (the caller's own)."""
    statement = (
        update(SignInSession)
        .where(SignInSession.username == username, SignInSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if keep is not None:
        statement = statement.where(SignInSession.id != keep)
    await db.execute(statement)


async def change_password(
    db: AsyncSession, username: str, password_hash: str, *, keep_session: str, now: datetime
) -> None:
    """The new password; every other sign-in of the account ends (DOMAIN.md 账户信息)."""
    await db.execute(
        update(User).where(User.username == username).values(password_hash=password_hash)
    )
    await end_sessions(db, username, now=now, keep=keep_session)
    await db.commit()


async def set_disabled(db: AsyncSession, username: str, disabled: bool, *, now: datetime) -> None:
    await db.execute(update(User).where(User.username == username).values(disabled=disabled))
    if disabled:
        await end_sessions(db, username, now=now)
    await db.commit()


async def change_role(db: AsyncSession, username: str, role: Role, *, now: datetime) -> None:
    """A token names its role, so every sign-in of the account ends with the old one."""
    await db.execute(update(User).where(User.username == username).values(role=role.value))
    await end_sessions(db, username, now=now)
    await db.commit()
