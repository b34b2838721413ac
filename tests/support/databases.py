"""A scratch database of its own on a PostgreSQL server, made for one run and dropped after,
so what a run writes never lands in another run's data."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import make_engine


async def create_database(server_url: str, prefix: str) -> tuple[str, str]:
    """A new database named ``prefix`` + a random suffix; its URL and its name."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    await _run_outside_a_transaction(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


async def drop_database(server_url: str, name: str) -> None:
    await _run_outside_a_transaction(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run_outside_a_transaction(server_url: str, statement: str) -> None:
    # PostgreSQL refuses CREATE/DROP DATABASE inside a transaction block.
    admin = make_engine(server_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(statement))
    await admin.dispose()
