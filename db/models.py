"""The projection's tables. Only activities (and the seeding command) write them, except those
the API writes: the sign-in tables, the buyer's saved data (invoice profiles, addresses), and
the card vault (``bank_cards``), where the API keeps each card before any command names it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stored UTC; always handed back time-zone aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDoc,
        list[Any]: JSONDoc,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    company: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    mobile: Mapped[str] = mapped_column(String(11), default="", server_default="")
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Product(Base):
    """The catalog as data: operations change a row, not the code."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    line: Mapped[str] = mapped_column(String(8), index=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class InvoiceProfile(Base):
    __tablename__ = "invoice_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    invoice_type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    taxpayer_id: Mapped[str] = mapped_column(String(20))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_mobile: Mapped[str] = mapped_column(String(11))
    recipient_address: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Address(Base):
    """收货地址: a buyer's saved consignees (the API writes them); one is the default."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str] = mapped_column(String(11))
    phone: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(1000))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]

    __table_args__ = (
        # One default address per buyer, whatever writes the rows.
        Index(
            "uq_addresses_one_default_per_buyer",
            "buyer",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )


class Order(Base):
    """One row per shop order: filter columns plus the whole state the workflow last wrote."""

    __tablename__ = "orders"

    order_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    buyer: Mapped[str] = mapped_column(String(64))  # ix_orders_buyer_placed_at leads with it
    status: Mapped[str] = mapped_column(String(16), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # ix_orders_platform_tabs leads with it
    product_line: Mapped[str] = mapped_column(String(8))
    product_code: Mapped[str] = mapped_column(String(40))
    shop_name: Mapped[str] = mapped_column(String(200))  # ix_orders_shop_name
    service_market_order_no: Mapped[str] = mapped_column(String(64), index=True)
    placement_key: Mapped[str | None] = mapped_column(String(128))
    # Unique; orders placed before AppKeys existed have none.
    app_key: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    refund_status: Mapped[str | None] = mapped_column(String(24), index=True)
    invoice_status: Mapped[str | None] = mapped_column(String(16), index=True)
    subtotal_fen: Mapped[int] = mapped_column(BigInteger)
    placed_at: Mapped[datetime]  # ix_orders_placed_at_order_no leads with it
    service_end_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]

    __table_args__ = (
        # The same service-market order number cannot back two live orders.
        Index(
            "uq_orders_live_service_market_order_no",
            "service_market_order_no",
            unique=True,
            postgresql_where=text("status <> 'voided'"),
            sqlite_where=text("status <> 'voided'"),
        ),
        Index("uq_orders_buyer_placement_key", "buyer", "placement_key", unique=True),
        # A buyer's page, newest first, is a walk of this index that stops at the page
        # (make bench measured it against a sort of all the buyer's orders).
        Index("ix_orders_buyer_placed_at", "buyer", "placed_at", "order_no"),
        # A buyer's tab counts, read from the index alone.
        Index("ix_orders_buyer_tabs", "buyer", "status", "refund_status"),
        # The same under a platform filter, staff's and a buyer's (migration 0010).
        Index("ix_orders_platform_tabs", "platform", "status", "refund_status"),
        Index("ix_orders_buyer_platform_tabs", "buyer", "platform", "status", "refund_status"),
        # Staff's page found in the index alone, its rows read afterwards.
        Index("ix_orders_placed_at_order_no", "placed_at", "order_no"),
        # 店铺名称 contains …: trigrams on PostgreSQL (pg_trgm), a plain index on SQLite.
        Index(
            "ix_orders_shop_name",
            "shop_name",
            postgresql_using="gin",
            postgresql_ops={"shop_name": "gin_trgm_ops"},
        ),
    )


class Transaction(Base):
    """交易流水."""

    __tablename__ = "transactions"

    serial_no: Mapped[str] = mapped_column(String(12), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    product_code: Mapped[str] = mapped_column(String(40))
    standard_fen: Mapped[int] = mapped_column(BigInteger)
    paid_here_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger)
    subtotal_fen: Mapped[int] = mapped_column(BigInteger)
    payment_method: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class OrderTabCount(Base):
    """How many orders one buyer has on one platform in one (status, refund status), in
    ten parts: the lists' tab counts add these up. Kept by triggers on ``orders`` (migration
    0011), never written by the code; a missing refund status is ''."""

    __tablename__ = "order_tab_counts"

    buyer: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    refund_status: Mapped[str] = mapped_column(String(24), primary_key=True)
    # The order number's last digit: a busy buyer's concurrent writes spread over ten rows.
    shard: Mapped[str] = mapped_column(String(1), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class InvoiceApplication(Base):
    __tablename__ = "invoice_applications"
    # The orders with an application in a status (开票状态 filter), from the index alone.
    __table_args__ = (Index("ix_invoice_applications_status_order_no", "status", "order_no"),)

    invoice_app_no: Mapped[str] = mapped_column(String(24), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), index=True)
    buyer: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # ix_invoice_applications_status_order_no
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # 发票号: unique among those recorded (a number on two applications is refused).
    invoice_number: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    created_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class Refund(Base):
    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    buyer: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    shop_name: Mapped[str] = mapped_column(String(200), index=True)
    service_market_order_no: Mapped[str] = mapped_column(String(64), index=True)
    applied_at: Mapped[datetime | None] = mapped_column(index=True)
    data: Mapped[dict[str, Any]]


class QueueItem(Base):
    """An open piece of back-office work in one of the work queues (domain.queues), projected
    from the order's clocks: what the back office's counts and the daily digest read."""

    __tablename__ = "queue_items"
    __table_args__ = (Index("ix_queue_items_queue_overdue", "queue", "overdue"),)

    queue: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The order number, refund id or 开票编号 the work is about.
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), index=True)
    since: Mapped[datetime]
    due_at: Mapped[datetime]
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BankCard(Base):
    """The card vault: a refund's bank card number, encrypted; the run and the projection
    hold only ``card_ref`` and the masked form (claim check)."""

    __tablename__ = "bank_cards"

    card_ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    masked: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class RefundLogEntry(Base):
    """退款记录/操作日志, one row per step; (refund, seq) makes a retried write a no-op."""

    __tablename__ = "refund_log"

    refund_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    operator: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(600))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))


class OrderEvent(Base):
    """The audit log: who did what when, per order."""

    __tablename__ = "order_events"

    order_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")


class Payout(Base):
    """The payout ledger: one row per refund paid. It follows the refund's state (written with
    the payout; replaced only when a lost workflow task's write is superseded)."""

    __tablename__ = "payouts"

    refund_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_reference: Mapped[str] = mapped_column(String(100))
    paid_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class OutboxMessage(Base):
    """Every e-mail, keyed so a retried activity never sends the same one twice."""

    __tablename__ = "outbox"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    order_no: Mapped[str | None] = mapped_column(String(32), index=True)
    template: Mapped[str] = mapped_column(String(40))
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Message(Base):
    """我的消息: one per notice e-mailed about a buyer's order, written with its outbox row."""

    __tablename__ = "messages"
    __table_args__ = (
        # One message per e-mail however often the e-mail activity runs.
        Index("uq_messages_buyer_outbox_key", "buyer", "outbox_key", unique=True),
        Index("ix_messages_buyer_created_at", "buyer", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer: Mapped[str] = mapped_column(String(64))
    outbox_key: Mapped[str] = mapped_column(String(200))
    order_no: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Counter(Base):
    """Sequences behind 交易流水号 (daily) and 开票编号 (global)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class NumberAllocation(Base):
    """What a (workflow, step) was given, so a retried allocation returns the same numbers."""

    __tablename__ = "number_allocations"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    numbers: Mapped[list[Any]]
    created_at: Mapped[datetime]


class SignInSession(Base):
    """One sign-in (a token or the web cookie); every authenticated request reads its row."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "api" (bearer) or "web" (cookie, idles out)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SignInThrottle(Base):
    """Recent failed sign-ins of one account or one client address, and its lock."""

    __tablename__ = "sign_in_throttles"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # "account" or "address"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]
