"""The real FastAPI app, in development or in production, over httpx's ASGI transport.

Temporal is not needed for what these tests look at (headers, gates, sign-in), so the app
points at an address nothing listens on and answers 503 where a route would need it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.auth import TOKEN_COOKIE
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from db.seed import seed
from devstack.processes import free_port
from domain.order import Actor
from domain.statuses import Role
from settings import Settings
from tests.security.app_under_test import settings_for
from tests.support.http_api import session_token

BUYER = Actor(username="leiliang", role=Role.BUYER, company="快乐贸易有限公司")
REVIEWER = Actor(username="bmp", role=Role.REVIEWER, company="百胜软件")


def strong_secret() -> str:
    return secrets.token_urlsafe(48)


def app_settings(environment: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings a deployment of ``environment`` would start with (a strong secret of its
    own, no Temporal reachable), on the base every app under test shares."""
    values: dict[str, Any] = {
        "environment": environment,
        "jwt_secret": strong_secret(),
        "temporal_address": f"127.0.0.1:{free_port()}",
    }
    return settings_for(data_dir, **(values | overrides))


async def signed_in(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], actor: Actor
) -> dict[str, str]:
    """Headers of a signed-in caller: the bearer token (API) and the cookie (pages)."""
    token = await session_token(sessions, settings, actor)
    return {"Authorization": f"Bearer {token}", "Cookie": f"{TOKEN_COOKIE}={token}"}


@asynccontextmanager
async def serving(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessions=sessions)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://shop") as http,
    ):
        yield http


@asynccontextmanager
async def fresh_database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A new SQLite database under DATA_DIR, migrated and seeded as ``settings`` says."""
    url = f"sqlite+aiosqlite:///{settings.data_dir / 'fresh.db'}"
    await upgrade_to_head(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        await seed(sessions, settings)
        yield sessions
    finally:
        await engine.dispose()
