"""The FastAPI application: `uvicorn api.app:create_app --factory`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import errors
from api.routes import admin, auth, catalog, finance, health, orders, profiles
from db.engine import make_engine, make_sessionmaker
from settings import Settings, get_settings
from workflows.client import connect


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the app; tests hand in their own Temporal client and session factory."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if sessions is None:
            engine = make_engine(settings.effective_database_url)
            app.state.sessions = make_sessionmaker(engine)
        else:
            app.state.sessions = sessions
        app.state.temporal = temporal or await connect(settings)
        yield
        if engine is not None:
            await engine.dispose()

    app = FastAPI(
        title="百胜云市场 · 店铺订购",
        description="Shop subscription orders of Baison's cloud market, run as Temporal workflows.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    errors.install(app)
    for module in (health, auth, catalog, profiles, orders, admin, finance):
        app.include_router(module.router)
    return app
