"""Load the default catalog and, outside production, the demo accounts. Idempotent.

`python -m db.seed` migrates the configured database and seeds it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from db.passwords import hash_password
from domain.catalog import Product
from domain.statuses import Role
from settings import Settings, get_settings

CATALOG_FILE = Path(__file__).with_name("catalog.json")

# username, role, company, e-mail (API.md "Demo accounts")
DEMO_ACCOUNTS = (
    ("leiliang", Role.BUYER, "快乐贸易有限公司", "leiliang@example.com"),
    ("zhangsan", Role.BUYER, "示例科技有限公司", "zhangsan@example.com"),
    ("bmp", Role.REVIEWER, "百胜软件", "bmp@baison.example.com"),
    ("finance", Role.FINANCE, "百胜软件", "finance@baison.example.com"),
)


def default_catalog() -> list[Product]:
    return [Product.model_validate(entry) for entry in json.loads(CATALOG_FILE.read_text())]


async def seed(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    now = datetime.now(UTC)
    async with sessions() as session:
        known = set(await session.scalars(select(models.Product.code)))
        # Rows operations edited are never overwritten; only missing products are added.
        for order, product in enumerate(default_catalog()):
            if product.code not in known:
                session.add(
                    models.Product(
                        code=product.code,
                        line=product.line,
                        platform=product.platform.value,
                        sort_order=order,
                        active=product.active,
                        data=product.model_dump(mode="json"),
                        updated_at=now,
                    )
                )
        # Demo accounts only on request: an unset ENVIRONMENT is production.
        if settings.is_development:
            users = set(await session.scalars(select(models.User.username)))
            for username, role, company, email in DEMO_ACCOUNTS:
                if username not in users:
                    session.add(
                        models.User(
                            username=username,
                            password_hash=hash_password(settings.demo_password.get_secret_value()),
                            role=role.value,
                            company=company,
                            email=email,
                            created_at=now,
                        )
                    )
        await session.commit()


async def migrate_and_seed(settings: Settings) -> None:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_to_head(url)
    engine = make_engine(url)
    try:
        await seed(make_sessionmaker(engine), settings)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(migrate_and_seed(get_settings()))
