"""The default catalog is complete data; seeding adds what is missing and nothing twice."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from db.passwords import verify_password
from db.seed import CATALOG_FILE, DEMO_ACCOUNTS, default_catalog, seed
from domain.catalog import PRODUCT_LINES, Platform, Product
from domain.statuses import SettlementMode
from settings import Settings
from tests.support.keys import TEST_PAYLOAD_KEYS

SOLD_ON: dict[str, set[str]] = {
    "E3": {platform.value for platform in Platform},
    "ME3": {"taobao", "jd", "pinduoduo", "douyin", "kuaishou", "youzan", "weimob"},
    "E3+": {"taobao", "jd", "pinduoduo", "douyin", "kuaishou", "suning", "aliexpress", "1688"},
}
MODE_OF_PLATFORM = {
    "taobao": (SettlementMode.INVOICE_ONLY, 0),
    "pinduoduo": (SettlementMode.INVOICE_ONLY, 0),
    "weimob": (SettlementMode.INVOICE_ONLY, 0),
    "youzan": (SettlementMode.INVOICE_ONLY, 0),
    "aliexpress": (SettlementMode.INVOICE_ONLY, 0),
    "1688": (SettlementMode.INVOICE_ONLY, 0),
    "jd": (SettlementMode.INVOICE_AND_REFUND, 5000),
    "suning": (SettlementMode.INVOICE_AND_REFUND, 5000),
    "douyin": (SettlementMode.REFUND_ONLY, 10000),
    "kuaishou": (SettlementMode.REFUND_ONLY, 10000),
}
NOTICE_OF_MODE = {
    SettlementMode.INVOICE_ONLY: "此订单完成后，可用于申请开票，无需实际支付。",
    SettlementMode.INVOICE_AND_REFUND: (
        "①此订购单完成后，可用于申请开票/退款，无需实际支付。"
        "②自云市场订购之日起，请一年内完成退款，逾期则自动生成开票。"
    ),
    SettlementMode.REFUND_ONLY: (
        "①此订单完成后，可用于申请退款，无需实际支付。"
        "②自云市场订购之日起，请一年内完成退款，逾期则自动生成开票。"
    ),
}


@pytest.fixture
async def fresh_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """An empty, migrated database of its own, for tests that edit or count from zero."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await upgrade_to_head(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _count(sessions: async_sessionmaker[AsyncSession], table: type[models.Base]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def test_catalog_file_entries_each_validate_as_product() -> None:
    entries = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    products = [Product.model_validate(entry) for entry in entries]
    assert len(products) == sum(len(platforms) for platforms in SOLD_ON.values())


def test_catalog_sells_each_line_on_its_platforms_once() -> None:
    catalog = default_catalog()
    assert {p.line for p in catalog} == set(PRODUCT_LINES)
    for line, platforms in SOLD_ON.items():
        sold = [p.platform.value for p in catalog if p.line == line]
        assert sorted(sold) == sorted(platforms), line
    assert len({p.code for p in catalog}) == len(catalog)
    assert len({p.name for p in catalog}) == len(catalog)


def test_catalog_settlement_mode_and_notice_follow_the_platform() -> None:
    for product in default_catalog():
        assert (product.settlement_mode, product.refund_share_bp) == MODE_OF_PLATFORM[
            product.platform.value
        ], product.code
        assert product.notice == NOTICE_OF_MODE[product.settlement_mode], product.code
        assert product.agreement == f"《店铺订购协议-{product.line}》", product.code
        assert product.modules[0].code == "ERP" and product.min_price_fen == 200_000


def test_catalog_has_the_guides_products() -> None:
    catalog = {p.code: p for p in default_catalog()}
    taobao, jd = catalog["JSFW0001"], catalog["JD0001"]
    assert (taobao.line, taobao.platform, taobao.name) == (
        "E3",
        Platform.TAOBAO,
        "E3-淘宝开放平台对接服务",
    )
    assert taobao.settlement_mode is SettlementMode.INVOICE_ONLY
    assert sum(m.price_fen for m in taobao.modules) >= 600_000  # the guide's RMB 6000.00 order
    assert (jd.line, jd.platform, jd.name) == ("E3", Platform.JD, "E3-京东开放平台对接服务")
    assert (jd.settlement_mode, jd.refund_share_bp) == (SettlementMode.INVOICE_AND_REFUND, 5000)
    assert (jd.modules[0].name, jd.modules[0].price_fen) == ("百胜电商ERP", 200_000)
    by_name = {p.name: p for p in catalog.values()}
    assert by_name["E3-抖店开放平台对接服务"].settlement_mode is SettlementMode.REFUND_ONLY
    assert by_name["E3-拼多多开放平台对接服务"].settlement_mode is SettlementMode.INVOICE_ONLY


async def test_seed_twice_duplicates_nothing(
    fresh_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    await seed(fresh_sessions, settings)
    first = (
        await _count(fresh_sessions, models.Product),
        await _count(fresh_sessions, models.User),
    )
    await seed(fresh_sessions, settings)
    second = (
        await _count(fresh_sessions, models.Product),
        await _count(fresh_sessions, models.User),
    )
    assert first == second == (len(default_catalog()), len(DEMO_ACCOUNTS))


async def test_seed_stores_products_in_file_order(
    fresh_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await seed(fresh_sessions, Settings(data_dir=tmp_path))
    async with fresh_sessions() as session:
        rows = (
            await session.scalars(select(models.Product).order_by(models.Product.sort_order))
        ).all()
    assert [row.code for row in rows] == [p.code for p in default_catalog()]
    assert [Product.model_validate(row.data) for row in rows] == default_catalog()


async def test_seed_keeps_an_operators_edit(
    fresh_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await seed(fresh_sessions, Settings(data_dir=tmp_path))
    async with fresh_sessions() as session:
        row = await session.get_one(models.Product, "JD0001")
        row.data = {**row.data, "name": "E3-京东开放平台对接服务（新版）"}
        row.active = False
        await session.commit()

    await seed(fresh_sessions, Settings(data_dir=tmp_path))

    async with fresh_sessions() as session:
        row = await session.get_one(models.Product, "JD0001")
        assert (row.data["name"], row.active) == ("E3-京东开放平台对接服务（新版）", False)


async def test_seed_creates_demo_accounts_with_the_demo_password(
    fresh_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await seed(fresh_sessions, Settings(data_dir=tmp_path, demo_password="s3cret-demo"))
    async with fresh_sessions() as session:
        users = {u.username: u for u in await session.scalars(select(models.User))}
    assert {name: (u.role, u.company) for name, u in users.items()} == {
        "leiliang": ("buyer", "快乐贸易有限公司"),
        "zhangsan": ("buyer", "示例科技有限公司"),
        "bmp": ("reviewer", "百胜软件"),
        "finance": ("finance", "百胜软件"),
    }
    assert users["leiliang"].email == "leiliang@example.com"
    assert users["zhangsan"].email == "zhangsan@example.com"
    assert all(verify_password(u.password_hash, "s3cret-demo") for u in users.values())
    assert not verify_password(users["bmp"].password_hash, "demo")


async def test_seed_in_production_creates_no_demo_accounts(
    fresh_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    production = Settings(
        environment="production",
        jwt_secret=secrets.token_urlsafe(48),
        payload_keys=TEST_PAYLOAD_KEYS,
        data_dir=tmp_path,
    )
    await seed(fresh_sessions, production)
    assert await _count(fresh_sessions, models.User) == 0
    assert await _count(fresh_sessions, models.Product) == len(default_catalog())


async def test_session_database_is_seeded(session_maker: async_sessionmaker[AsyncSession]) -> None:
    assert await _count(session_maker, models.Product) == len(default_catalog())
    async with session_maker() as session:
        names = set(await session.scalars(select(models.User.username)))
    assert {username for username, *_ in DEMO_ACCOUNTS} <= names
