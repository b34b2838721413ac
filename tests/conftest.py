"""Test environments shared across the directories.

The database is, in order: TEST_DATABASE_URL (a fresh database on that server per run), a
testcontainers PostgreSQL when a Docker engine answers, or SQLite. Over it: an in-process
SMTP sink, the API in-process over a real Temporal dev server with a worker on a task queue
of its own (``api``), and the whole stack as processes (``e2e``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from db.seed import seed
from devstack.processes import executable, free_port
from settings import Settings
from tests.support.databases import create_database, drop_database
from tests.support.http_api import PROOF_LIMIT_BYTES, Api, api_with_worker
from tests.support.keys import TEST_PAYLOAD_KEYS, TEST_SETTINGS
from tests.support.samples import unique
from tests.support.smtp import SmtpSink
from tests.support.stack import ProcessStack, stack_settings
from workflows.client import connect, data_converter
from workflows.search_attributes import ALL_KEYS

# An unset ENVIRONMENT means production; the tests run the development stack on purpose
# (demo accounts, the dev key file), and every Settings() or child process they make reads it.
os.environ["ENVIRONMENT"] = "development"

pytest_plugins = ["tests.support.time_skipping"]


def _testcontainers_postgres() -> Iterator[str | None]:
    try:
        from testcontainers.community.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver="asyncpg")
        container.start()
    except Exception:  # no Docker engine here: fall back to SQLite
        yield None
        return
    try:
        yield container.get_connection_url()
    finally:
        container.stop()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        url, name = await create_database(server_url, "test_")
        await upgrade_to_head(url)
        yield url
        await drop_database(server_url, name)
        return
    containers = _testcontainers_postgres()
    container_url = next(containers)
    url = container_url or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    await upgrade_to_head(url)
    yield url
    next(containers, None)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def session_maker(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> async_sessionmaker[AsyncSession]:
    sessions = make_sessionmaker(engine)
    await seed(sessions, Settings(data_dir=Path(tmp_path_factory.mktemp("seed"))))
    return sessions


@pytest.fixture(scope="session")
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=executable("temporal"),
        search_attributes=list(ALL_KEYS),
        data_converter=data_converter(TEST_SETTINGS),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def api_settings(smtp_sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="development",
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        data_dir=tmp_path_factory.mktemp("api"),
        payload_keys=TEST_PAYLOAD_KEYS,
        temporal_task_queue=unique("api-"),
        proof_max_bytes=PROOF_LIMIT_BYTES,
        # Every test signs in from 127.0.0.1 as the same demo accounts, and some fail on
        # purpose (the fuzz by the hundred), all in one database: throttling would lock the
        # accounts for the rest of the session. tests/security tests the limits on apps and
        # accounts of its own.
        sign_in_max_failures=100_000,
        sign_in_max_failures_per_address=100_000,
        # One demo buyer files every refund of the run: their upload limits would throttle it.
        proof_uploads_per_hour=10_000_000,
        proof_quota_bytes=1 << 40,
    )


@pytest.fixture(scope="session")
async def api(
    dev_server: WorkflowEnvironment,
    api_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
) -> AsyncIterator[Api]:
    async with api_with_worker(dev_server.client, api_settings, session_maker, smtp_sink) as api:
        yield api


@pytest.fixture(scope="session")
def e2e_settings(
    database_url: str, smtp_sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return stack_settings(
        Path(tmp_path_factory.mktemp("e2e")),
        database_url,
        smtp_sink.port,
        "e2e",
        worker_metrics_port=free_port(),
    )


@pytest.fixture(scope="session")
def e2e_stack(
    e2e_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> Iterator[ProcessStack]:
    """The stack as processes, started exactly as `make run` starts it, on the test
    database (migrated and seeded by ``session_maker``)."""
    e2e_settings.data_dir.mkdir(parents=True, exist_ok=True)
    stack = ProcessStack(e2e_settings, e2e_settings.data_dir / "logs")
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def e2e(
    e2e_stack: ProcessStack, e2e_settings: Settings, smtp_sink: SmtpSink
) -> AsyncIterator[Api]:
    base_url = f"http://127.0.0.1:{e2e_settings.api_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield Api(http, await connect(e2e_settings), smtp_sink, e2e_settings)
