"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import models
from db.migrate import alembic_config, upgrade_to_head

VERSIONS = Path(models.__file__).parent / "migrations" / "versions"


async def test_upgrade_to_head_matches_the_models(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, models.Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_upgrade_to_head_creates_exactly_the_model_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert tables == set(models.Base.metadata.tables) | {"alembic_version"}


async def test_upgrade_to_head_twice_changes_nothing(
    database_url: str, engine: AsyncEngine
) -> None:
    await upgrade_to_head(database_url)

    async with engine.connect() as connection:
        version = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_heads()
        )
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert version == (head,)


def _order(order_no: str, service_market_order_no: str, status: str) -> models.Order:
    now = datetime.now(UTC)
    return models.Order(
        order_no=order_no,
        buyer="leiliang",
        status=status,
        platform="jd",
        product_line="E3",
        product_code="JD0001",
        shop_name="快乐京东旗舰店",
        service_market_order_no=service_market_order_no,
        subtotal_fen=200_000,
        placed_at=now,
        service_end_at=now,
        version=1,
        state={},
        updated_at=now,
    )


async def test_live_service_market_order_no_twice_is_refused(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    number = f"SM{uuid.uuid4().hex[:12]}"
    async with session_maker() as session:
        session.add(_order(f"BS-T{uuid.uuid4().hex[:12]}", number, "submitted"))
        await session.flush()
        session.add(_order(f"BS-T{uuid.uuid4().hex[:12]}", number, "approved"))
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()


async def test_voided_order_frees_its_service_market_order_no(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    number = f"SM{uuid.uuid4().hex[:12]}"
    async with session_maker() as session:
        session.add(_order(f"BS-T{uuid.uuid4().hex[:12]}", number, "voided"))
        session.add(_order(f"BS-T{uuid.uuid4().hex[:12]}", number, "voided"))
        session.add(_order(f"BS-T{uuid.uuid4().hex[:12]}", number, "submitted"))
        await session.flush()
        written = await session.scalar(
            select(func.count())
            .select_from(models.Order)
            .where(models.Order.service_market_order_no == number)
        )
        await session.rollback()
    assert written == 3


def test_migrations_import_no_project_code() -> None:
    # A migration must keep working after the models change, so it spells its own types.
    for script in VERSIONS.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        assert "from db" not in text and "import db" not in text, script.name
        assert "UTCDateTime" not in text, script.name
