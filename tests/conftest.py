"""Test environments. The database is, in order: TEST_DATABASE_URL (a fresh database on
that server per run), a testcontainers PostgreSQL when a Docker engine answers, or SQLite."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from db.seed import seed
from settings import Settings

# An unset ENVIRONMENT means production; the tests run the development stack on purpose
# (demo accounts, the dev key file), and every Settings() or child process they make reads it.
os.environ["ENVIRONMENT"] = "development"

pytest_plugins = ["tests.lifecycle_harness", "tests.api_harness", "tests.e2e_harness"]


async def _create_database(server_url: str) -> tuple[str, str]:
    """A new, uniquely named database on the server of ``server_url``."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


async def _drop_database(server_url: str, name: str) -> None:
    admin = make_engine(server_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


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
        url, name = await _create_database(server_url)
        await upgrade_to_head(url)
        yield url
        await _drop_database(server_url, name)
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
