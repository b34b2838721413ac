"""an invoice number (发票号) is recorded on one invoice application only

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Unique among the numbers recorded; applications not yet issued have none (NULL).
    with op.batch_alter_table("invoice_applications") as batch_op:
        batch_op.drop_index("ix_invoice_applications_invoice_number")
        batch_op.create_index(
            "ix_invoice_applications_invoice_number", ["invoice_number"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_applications") as batch_op:
        batch_op.drop_index("ix_invoice_applications_invoice_number")
        batch_op.create_index(
            "ix_invoice_applications_invoice_number", ["invoice_number"], unique=False
        )
