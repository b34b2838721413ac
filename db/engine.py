"""Engine and session factory for the configured database."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """``pre_ping`` tests each pooled connection with a round trip before lending it out, so
    a request never meets a connection the server dropped. The worker goes without (one
    round trip fewer per transaction, make bench): its activities are retried, and the
    failed attempt has already thrown the dropped connections out of the pool."""
    # Bound values are personal data (names, addresses, the card vault's rows): a database
    # error names the statement, never the values.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets the API read while the worker writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(
        url, hide_parameters=True, pool_pre_ping=pre_ping, pool_size=10, max_overflow=20
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
