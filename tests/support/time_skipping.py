"""Fixtures of the time-skipping server (one per test) and a worker with the real activities
on it: the workflow tests and the security tests of notices use them (a plugin of
tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from devstack.processes import executable
from settings import Settings
from tests.support.keys import TEST_PAYLOAD_KEYS, TEST_SETTINGS
from tests.support.smtp import SmtpSink
from tests.workflows.harness import Lifecycle, register_search_attributes
from worker import SANDBOXED, build_worker
from workflows.client import data_converter


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=executable("temporal-test-server"),
        data_converter=data_converter(TEST_SETTINGS),
    )
    # One server per test: time skipping stalls while another test's runs wait on a worker.
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture
async def lifecycle(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> AsyncIterator[Lifecycle]:
    settings = Settings(
        environment="development",
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        data_dir=tmp_path,
        payload_keys=TEST_PAYLOAD_KEYS,
    )
    task_queue = f"lifecycle-{uuid.uuid4().hex[:8]}"
    worker = build_worker(
        time_skipping_env.client, settings, session_maker, task_queue, workflow_runner=SANDBOXED
    )
    async with worker:
        yield Lifecycle(time_skipping_env, task_queue, session_maker, smtp_sink)
