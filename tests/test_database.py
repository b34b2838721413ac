"""Migrations match the models; seeding is complete and idempotent."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import models
from db.seed import DEMO_ACCOUNTS, default_catalog, seed
from domain.catalog import PRODUCT_LINES, Platform
from domain.statuses import SettlementMode
from settings import Settings


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, models.Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_seed_twice_duplicates_nothing(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await seed(session_maker, Settings(data_dir=tmp_path))
    async with session_maker() as session:
        products = await session.scalar(select(func.count()).select_from(models.Product))
        users = await session.scalar(select(func.count()).select_from(models.User))
    assert products == len(default_catalog())
    assert users == len(DEMO_ACCOUNTS)


def test_default_catalog_has_every_line_and_the_guides_products() -> None:
    catalog = {p.code: p for p in default_catalog()}
    assert {p.line for p in catalog.values()} == set(PRODUCT_LINES)
    assert {p.platform for p in catalog.values() if p.line == "E3"} == set(Platform)
    assert catalog["JSFW0001"].settlement_mode is SettlementMode.INVOICE_ONLY
    assert (catalog["JD0001"].settlement_mode, catalog["JD0001"].refund_share_bp) == (SettlementMode.INVOICE_AND_REFUND, 5000)
    douyin = next(p for p in catalog.values() if p.line == "E3" and p.platform is Platform.DOUYIN)
    assert (douyin.name, douyin.settlement_mode) == ("E3-抖店开放平台对接服务", SettlementMode.REFUND_ONLY)
    pdd = next(p for p in catalog.values() if p.line == "E3" and p.platform is Platform.PINDUODUO)
    assert pdd.settlement_mode is SettlementMode.INVOICE_ONLY
    assert catalog["JD0001"].min_price_fen == 200_000


async def test_seed_in_production_creates_no_demo_accounts(tmp_path: Path) -> None:
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade_to_head

    url = f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}"
    await upgrade_to_head(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    await seed(sessions, Settings(environment="production", jwt_secret="x" * 40, data_dir=tmp_path))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(models.User)) == 0
        assert await session.scalar(select(func.count()).select_from(models.Product)) == len(default_catalog())
    await engine.dispose()
