"""Work queues: each open piece of back-office work with its time limit and 超时 flag

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Filled by each order's next save; open runs start their clocks when they move onto
    # the code that keeps them (python -m ops upgrade-runs).
    op.create_table(
        "queue_items",
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("order_no", sa.String(length=32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "item_id", name=op.f("pk_queue_items")),
    )
    op.create_index(op.f("ix_queue_items_order_no"), "queue_items", ["order_no"], unique=False)
    op.create_index("ix_queue_items_queue_overdue", "queue_items", ["queue", "overdue"])


def downgrade() -> None:
    op.drop_index("ix_queue_items_queue_overdue", table_name="queue_items")
    op.drop_index(op.f("ix_queue_items_order_no"), table_name="queue_items")
    op.drop_table("queue_items")
