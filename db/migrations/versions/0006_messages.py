"""我的消息 (the buyer's messages) and 账户信息 (a user's contact name and mobile)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("contact_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("mobile", sa.String(length=11), server_default="", nullable=False)
        )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("order_no", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        "uq_messages_buyer_outbox_key", "messages", ["buyer", "outbox_key"], unique=True
    )
    op.create_index(
        "ix_messages_buyer_created_at", "messages", ["buyer", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_messages_buyer_created_at", table_name="messages")
    op.drop_index("uq_messages_buyer_outbox_key", table_name="messages")
    op.drop_table("messages")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("mobile")
        batch_op.drop_column("contact_name")
