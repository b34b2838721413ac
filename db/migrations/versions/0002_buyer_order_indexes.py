"""indexes for a buyer's order list: pages newest first, tab counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_buyer_placed_at", "orders", ["buyer", "placed_at", "order_no"], unique=False
    )
    op.create_index(
        "ix_orders_buyer_tabs", "orders", ["buyer", "status", "refund_status"], unique=False
    )
    # Both lead with buyer: the single-column index adds nothing but write cost.
    op.drop_index("ix_orders_buyer", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_buyer", "orders", ["buyer"], unique=False)
    op.drop_index("ix_orders_buyer_tabs", table_name="orders")
    op.drop_index("ix_orders_buyer_placed_at", table_name="orders")
