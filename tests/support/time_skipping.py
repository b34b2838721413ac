"""Fixtures of the time-skipping server (one per test) and a worker with the real activities
on it: the workflow tests and the security tests of notices use them (a plugin of
tests/conftest.py)."""

from __future__ import annotations

import contextlib
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


@contextlib.asynccontextmanager
async def running_lifecycle(
    env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    sink: SmtpSink,
    data_dir: Path,
    queue_prefix: str,
    staff_emails: str = "",
) -> AsyncIterator[Lifecycle]:
    """A sandboxed worker with the real activities on a task queue of its own, e-mailing to
    ``sink``, on ``env`` (the time-skipping server, or the dev server where a test needs one).
    Staff are e-mailed about late work only when ``staff_emails`` (STAFF_EMAILS) names them."""
    settings = Settings(
        environment="development",
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        data_dir=data_dir,
        payload_keys=TEST_PAYLOAD_KEYS,
        staff_emails=staff_emails,
    )
    task_queue = f"{queue_prefix}-{uuid.uuid4().hex[:8]}"
    worker = build_worker(
        env.client, settings, session_maker, task_queue, workflow_runner=SANDBOXED
    )
    async with worker:
        yield Lifecycle(env, task_queue, session_maker, sink)


@pytest.fixture
async def lifecycle(
    time_skipping_env: WorkflowEnvironment,
    session_maker: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> AsyncIterator[Lifecycle]:
    async with running_lifecycle(
        time_skipping_env, session_maker, smtp_sink, tmp_path, "lifecycle"
    ) as running:
        yield running
