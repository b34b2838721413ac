"""order counts per (buyer, platform, status, refund status), kept by triggers on orders, so
the lists' tab counts read a few hundred rows instead of every order; invoice applications
found by status from the index alone

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The database keeps the counts itself, in the same transaction as the order row: every
# writer of orders (the projection, bulk loads, repairs) is counted, and a count can never
# disagree with the rows. A missing refund status is '' (key columns cannot be NULL).
# One buyer's orders move through the same few groups at once (every lifecycle of a busy
# buyer), so each group is split in ten by the order number's last digit, and PostgreSQL
# changes the counts at commit (a deferred trigger): a counter row is locked for the commit
# only, and by a tenth of the writers.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION count_order_tabs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_key text[];
    new_key text[];
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_key := ARRAY[OLD.buyer, OLD.platform, OLD.status, coalesce(OLD.refund_status, ''),
                         right(OLD.order_no, 1)];
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_key := ARRAY[NEW.buyer, NEW.platform, NEW.status, coalesce(NEW.refund_status, ''),
                         right(NEW.order_no, 1)];
    END IF;
    IF old_key IS NOT DISTINCT FROM new_key THEN
        RETURN NULL;
    END IF;
    -- Two groups change in one key order, so two writers moving orders in opposite
    -- directions (a refund returned and one re-applied) cannot deadlock.
    IF new_key IS NULL OR (old_key IS NOT NULL AND old_key < new_key) THEN
        PERFORM count_order_tab_move(old_key, -1);
        PERFORM count_order_tab_move(new_key, 1);
    ELSE
        PERFORM count_order_tab_move(new_key, 1);
        PERFORM count_order_tab_move(old_key, -1);
    END IF;
    RETURN NULL;
END $$;
"""

POSTGRESQL_MOVE = """
CREATE FUNCTION count_order_tab_move(key text[], delta integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF key IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO order_tab_counts (buyer, platform, status, refund_status, shard, n)
    VALUES (key[1], key[2], key[3], key[4], key[5], delta)
    ON CONFLICT (buyer, platform, status, refund_status, shard)
    DO UPDATE SET n = order_tab_counts.n + excluded.n;
END $$;
"""

POSTGRESQL_TRIGGER = """
CREATE CONSTRAINT TRIGGER orders_count_tabs
AFTER INSERT OR DELETE OR UPDATE OF buyer, platform, status, refund_status ON orders
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION count_order_tabs();
"""


def _sqlite_add(row: str) -> str:
    return (
        "INSERT INTO order_tab_counts (buyer, platform, status, refund_status, shard, n) "
        f"VALUES ({row}.buyer, {row}.platform, {row}.status, "
        f"coalesce({row}.refund_status, ''), substr({row}.order_no, -1), 1) "
        "ON CONFLICT (buyer, platform, status, refund_status, shard) DO UPDATE SET n = n + 1;"
    )


def _sqlite_remove(row: str) -> str:
    return (
        f"UPDATE order_tab_counts SET n = n - 1 WHERE buyer = {row}.buyer "
        f"AND platform = {row}.platform AND status = {row}.status "
        f"AND refund_status = coalesce({row}.refund_status, '') "
        f"AND shard = substr({row}.order_no, -1);"
    )


# SQLite runs one writer at a time: no lock to shorten, and the order of the two changes
# does not matter there.
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER orders_count_tabs_insert AFTER INSERT ON orders
    BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER orders_count_tabs_delete AFTER DELETE ON orders
    BEGIN {_sqlite_remove("OLD")} END""",
    f"""CREATE TRIGGER orders_count_tabs_update
    AFTER UPDATE OF buyer, platform, status, refund_status ON orders
    WHEN OLD.buyer IS NOT NEW.buyer OR OLD.platform IS NOT NEW.platform
        OR OLD.status IS NOT NEW.status OR OLD.refund_status IS NOT NEW.refund_status
    BEGIN {_sqlite_remove("OLD")} {_sqlite_add("NEW")} END""",
)


def _backfill(last_character: str) -> str:
    return f"""
INSERT INTO order_tab_counts (buyer, platform, status, refund_status, shard, n)
SELECT buyer, platform, status, coalesce(refund_status, ''), {last_character}, count(*)
FROM orders GROUP BY buyer, platform, status, coalesce(refund_status, ''), {last_character}
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "order_tab_counts",
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refund_status", sa.String(length=24), nullable=False),
        sa.Column("shard", sa.String(length=1), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "buyer",
            "platform",
            "status",
            "refund_status",
            "shard",
            name=op.f("pk_order_tab_counts"),
        ),
    )
    bind = op.get_bind()
    if _postgresql():
        # Counted and triggered under one lock: no order is written in between.
        bind.exec_driver_sql("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")
        bind.exec_driver_sql(POSTGRESQL_MOVE)
        bind.exec_driver_sql(POSTGRESQL_FUNCTION)
        bind.exec_driver_sql(POSTGRESQL_TRIGGER)
        bind.exec_driver_sql(_backfill("right(order_no, 1)"))
    else:
        for trigger in SQLITE_TRIGGERS:
            bind.exec_driver_sql(trigger)
        bind.exec_driver_sql(_backfill("substr(order_no, -1)"))
    # 开票状态 filter: the orders with an application in a status, from the index alone
    # (the single-column index made PostgreSQL read every application row).
    op.create_index(
        "ix_invoice_applications_status_order_no",
        "invoice_applications",
        ["status", "order_no"],
        unique=False,
    )
    op.drop_index("ix_invoice_applications_status", table_name="invoice_applications")


def downgrade() -> None:
    op.create_index(
        "ix_invoice_applications_status", "invoice_applications", ["status"], unique=False
    )
    op.drop_index("ix_invoice_applications_status_order_no", table_name="invoice_applications")
    bind = op.get_bind()
    if _postgresql():
        bind.exec_driver_sql("DROP TRIGGER orders_count_tabs ON orders")
        bind.exec_driver_sql("DROP FUNCTION count_order_tabs()")
        bind.exec_driver_sql("DROP FUNCTION count_order_tab_move(text[], integer)")
    else:
        for name in ("insert", "delete", "update"):
            bind.exec_driver_sql(f"DROP TRIGGER orders_count_tabs_{name}")
    op.drop_table("order_tab_counts")
