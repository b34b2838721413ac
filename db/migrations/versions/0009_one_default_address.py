"""收货地址: one default address per buyer, enforced by the database

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before the rule: of a buyer's several defaults only the newest stays one.
    op.execute(
        sa.text(
            "UPDATE addresses SET is_default = false WHERE is_default AND id < "
            "(SELECT max(newer.id) FROM addresses AS newer "
            "WHERE newer.buyer = addresses.buyer AND newer.is_default)"
        )
    )
    op.create_index(
        "uq_addresses_one_default_per_buyer",
        "addresses",
        ["buyer"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_addresses_one_default_per_buyer", table_name="addresses")
