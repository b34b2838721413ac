"""the card vault: refund bank card numbers encrypted at rest, out of workflow history

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
# Re-chained after 0003 at merge: only this line changes.
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_cards",
        sa.Column("card_ref", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("masked", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("card_ref", name=op.f("pk_bank_cards")),
    )
    op.create_index(op.f("ix_bank_cards_owner"), "bank_cards", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_bank_cards_owner"), table_name="bank_cards")
    op.drop_table("bank_cards")
