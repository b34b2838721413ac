"""The FastAPI application: ``uvicorn api.app:create_app --factory``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider

from api import auth, docs, errors, metrics, openapi, openapi_examples
from api.card_cipher import CardCipher
from api.csrf import SameOriginOnly
from api.errors import Problem
from api.limits import BodyLimit, RefuseNul
from api.password_check import PasswordChecks
from api.routes import (
    account,
    addresses,
    admin,
    catalog,
    codec,
    finance,
    health,
    invoices,
    messages,
    orders,
    profiles,
    refunds,
)
from api.security_headers import SecurityHeaders
from api.services.proof_sweep import sweep_periodically
from api.state import AppState, TemporalConnection
from api.web import pages as web
from db.engine import make_engine, make_sessionmaker
from domain.statuses import STAFF
from ops.logs import OrderOfTheRequest, configure_logging
from ops.tracing import API_SERVICE, start_tracing
from settings import Settings, get_settings
from workflows.client import payload_keys
from workflows.codec import EncryptionCodec

log = logging.getLogger(__name__)

OPENAPI_URL = "/openapi.json"

ROUTERS = (
    health.router,
    auth.router,
    account.router,
    catalog.router,
    messages.router,
    profiles.router,
    addresses.router,
    orders.router,
    refunds.router,
    invoices.router,
    admin.router,
    finance.router,
    codec.router,
)


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the app. Tests hand in their own settings, Temporal client and session factory."""
    tracing: ReplaySafeTracerProvider | None = None
    if settings is None:
        # Called by uvicorn's --factory: this is the API process. Its logs and traces are set
        # up here (uvicorn has configured its loggers by now), before the Temporal client
        # connects, which traces only when tracing is on.
        settings = get_settings()
        configure_logging(settings.log_format)
        tracing = start_tracing(settings, API_SERVICE)
    # The contract and the docs are for developers; production keeps them off the internet.
    docs_open = settings.is_development
    keys = payload_keys(settings)
    card_cipher = CardCipher(keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine: AsyncEngine | None = None
        if sessions is None:
            engine = make_engine(settings.effective_database_url)
            factory = make_sessionmaker(engine)
        else:
            factory = sessions
        connection = TemporalConnection(settings, temporal)
        app.state.shop_orders = AppState(
            settings=settings, sessions=factory, temporal=connection, card_cipher=card_cipher
        )
        try:
            await connection.client()
        except Problem:
            log.warning("starting without Temporal; requests that need it answer 503 until then")
        # Uploads a crash left held, and proofs no refund names any more, do not pile up.
        sweeper = asyncio.create_task(sweep_periodically(factory, settings))
        try:
            yield
        finally:
            sweeper.cancel()
            if engine is not None:
                await engine.dispose()
            if tracing is not None:
                # uvicorn ends the process by re-raising its stop signal, so atexit hooks do
                # not run: the spans still batched go out now.
                await asyncio.to_thread(tracing.force_flush)

    app = FastAPI(
        title="百胜云市场 · 店铺订购",
        summary="Shop subscription orders of Baison's cloud market",
        description=(
            "Placing, reviewing, invoicing and refunding shop subscription orders. "
            "Errors are application/problem+json; every state-changing POST/PUT accepts "
            "an Idempotency-Key header."
        ),
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=OPENAPI_URL if docs_open else None,
        # Served by api/docs.py from the project's own copy of the assets, not a CDN.
        docs_url=None,
        redoc_url=None,
        # One proof document (or one bank CSV) and a handful of fields per form.
        form_limits={"max_files": 1, "max_fields": 32},
        # FastAPI's own OpenTelemetry spans (request, dependencies, endpoint) follow the
        # tracer provider ops.tracing sets; off while there is none. Its HTTP metrics and
        # log events are not wanted: /metrics has ours, the log lines carry the trace id.
        telemetry={"metrics": False, "logs": False},
    )
    # The Temporal UI decrypts history payloads through /codec, called from its own origin.
    app.state.codec = EncryptionCodec(keys)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.temporal_ui_origins,
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["*"],
    )
    app.add_middleware(RefuseNul)
    app.add_middleware(SameOriginOnly, trusted_codec_origins=settings.temporal_ui_origins)
    # One gate per process: Argon2 holds 64 MiB per check.
    app.state.password_checks = PasswordChecks(settings)
    # Added after the others, so it runs before them: an oversized body is refused before
    # anything reads it.
    app.add_middleware(
        BodyLimit, max_upload_bytes=max(settings.proof_max_bytes, finance.BATCH_FILE_LIMIT)
    )
    # Outermost, so the refusals of the guards above carry the headers too.
    app.add_middleware(
        SecurityHeaders,
        https_only=not settings.is_development,
        docs_paths=docs.PAGES if docs_open else (),
    )
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app, openapi_examples.by_schema_name())
    if docs_open:
        docs.install(app, openapi_url=OPENAPI_URL)
    web.install(app)
    # Open in development; in production only staff read the figures.
    staff_only = [] if settings.is_development else [Depends(auth.require_roles(*STAFF))]
    metrics.install(app, readers=staff_only)
    # The log lines of a request about one order name it. Outermost: the access line is
    # written as the response goes out, which the metrics middleware does from a context of
    # its own.
    app.add_middleware(OrderOfTheRequest)
    return app
