"""收货地址: the buyer's address book; each order's AppKey, unique

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
# Re-chained after 0006 at merge: only this line changes.
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("postcode", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=1000), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_index(op.f("ix_addresses_buyer"), "addresses", ["buyer"], unique=False)
    # The consignee and remark live in the order's state; only the AppKey is a column.
    # A column and a unique index, added without rebuilding the table (SQLite included).
    op.add_column("orders", sa.Column("app_key", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_orders_app_key"), "orders", ["app_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_app_key"), table_name="orders")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("app_key")
    op.drop_index(op.f("ix_addresses_buyer"), table_name="addresses")
    op.drop_table("addresses")
