"""The real stack as processes, started exactly as `make run` starts it: the Temporal dev
server with a file database, the worker and the API; e-mail goes to an in-process SMTP
server and the database is the test database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from devstack.processes import (
    Stack,
    api_command,
    api_healthy,
    child_env,
    free_port,
    temporal_dev_server_command,
    temporal_ready,
    wait_until,
    worker_command,
)
from settings import Settings
from tests.api_harness import Api
from tests.lifecycle_harness import TEST_PAYLOAD_KEYS, SmtpSink
from workflows.client import connect


@pytest.fixture(scope="session")
def e2e_settings(
    database_url: str, smtp_sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        data_dir=Path(tmp_path_factory.mktemp("e2e")),
        database_url=database_url,
        temporal_port=free_port(),
        temporal_ui_port=free_port(),
        api_port=free_port(),
        worker_metrics_port=free_port(),
        temporal_task_queue=f"e2e-{uuid.uuid4().hex[:8]}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        payload_keys=TEST_PAYLOAD_KEYS,
        # See api_settings: every test signs in from 127.0.0.1.
        sign_in_max_failures_per_address=100_000,
    )


@pytest.fixture(scope="session")
def e2e_stack(
    e2e_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> Iterator[Stack]:
    settings = e2e_settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(child_env(settings), log_dir=settings.data_dir / "logs")
    try:
        stack.start("temporal", temporal_dev_server_command(settings))
        wait_until(lambda: temporal_ready(settings), "Temporal dev server", 90, stack)
        stack.start("worker", worker_command())
        stack.start("api", api_command(settings))
        wait_until(lambda: api_healthy(settings.api_port), "API", 90, stack)
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def e2e(e2e_stack: Stack, e2e_settings: Settings, smtp_sink: SmtpSink) -> AsyncIterator[Api]:
    temporal: Client = await connect(e2e_settings)
    base_url = f"http://127.0.0.1:{e2e_settings.api_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield Api(http, temporal, smtp_sink, e2e_settings)
