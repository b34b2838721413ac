"""Statuses, roles and actions, each with the Chinese label the guide uses."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    COMPLETED = "completed"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return ORDER_STATUS_LABELS[self]


ORDER_STATUS_LABELS = {
    OrderStatus.SUBMITTED: "付款成功",
    OrderStatus.RETURNED: "打回",
    OrderStatus.APPROVED: "已审核",
    OrderStatus.COMPLETED: "交易成功",
    OrderStatus.VOIDED: "交易失败",
}


class InvoiceStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    RETURNED = "returned"
    ISSUED = "issued"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return INVOICE_STATUS_LABELS[self]


INVOICE_STATUS_LABELS = {
    InvoiceStatus.PENDING: "未申请",
    InvoiceStatus.APPLIED: "已申请",
    InvoiceStatus.RETURNED: "打回",
    InvoiceStatus.ISSUED: "已开票",
    InvoiceStatus.SHIPPED: "已寄送",
    InvoiceStatus.CANCELLED: "已取消",
}

# The back office's 开票管理 queue: applications to issue (已申请) and issued ones still to
# ship (已开票 stays listed until 已寄送).
BACK_OFFICE_INVOICE_STATUSES = frozenset({InvoiceStatus.APPLIED, InvoiceStatus.ISSUED})

# An invoice application that needs nothing more from anybody.
FINISHED_INVOICE_STATUSES = frozenset({InvoiceStatus.SHIPPED, InvoiceStatus.CANCELLED})


class RefundStatus(StrEnum):
    APPLIED = "applied"
    CHANGES_REQUESTED = "changes_requested"
    AGREED = "agreed"
    REFUNDED = "refunded"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return REFUND_STATUS_LABELS[self]


REFUND_STATUS_LABELS = {
    RefundStatus.APPLIED: "退款申请",
    RefundStatus.CHANGES_REQUESTED: "退款修改",
    RefundStatus.AGREED: "同意退款",
    RefundStatus.REFUNDED: "已退款",
    RefundStatus.EXPIRED: "已逾期",
}

# The refund tab (退款中) shows orders whose refund is still moving.
REFUNDING_STATUSES = frozenset(
    {RefundStatus.APPLIED, RefundStatus.CHANGES_REQUESTED, RefundStatus.AGREED}
)
FINISHED_REFUND_STATUSES = frozenset({RefundStatus.REFUNDED, RefundStatus.EXPIRED})


class SettlementMode(StrEnum):
    INVOICE_ONLY = "invoice_only"
    REFUND_ONLY = "refund_only"
    INVOICE_AND_REFUND = "invoice_and_refund"

    @property
    def label(self) -> str:
        return SETTLEMENT_MODE_LABELS[self]


SETTLEMENT_MODE_LABELS = {
    SettlementMode.INVOICE_ONLY: "只开票",
    SettlementMode.REFUND_ONLY: "只退款",
    SettlementMode.INVOICE_AND_REFUND: "开票/退款",
}


class RefundDecision(StrEnum):
    REFUND = "refund"
    NO_REFUND = "no_refund"

    @property
    def label(self) -> str:
        return "退款" if self is RefundDecision.REFUND else "不退款"


class RefundType(StrEnum):
    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return "个人" if self is RefundType.INDIVIDUAL else "企业"


class InvoiceType(StrEnum):
    VAT_SPECIAL = "vat_special"
    VAT_NORMAL = "vat_normal"

    @property
    def label(self) -> str:
        return "增值税专用发票" if self is InvoiceType.VAT_SPECIAL else "增值税普通发票"


class Role(StrEnum):
    BUYER = "buyer"
    REVIEWER = "reviewer"
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.BUYER


ROLE_LABELS = {
    Role.BUYER: "买家",
    Role.REVIEWER: "审核人员",
    Role.FINANCE: "财务",
    Role.ADMIN: "管理员",
}

# Who may act for each audience: the one definition the domain, the API and the pages share.
BUYERS = frozenset({Role.BUYER})
REVIEWERS = frozenset({Role.REVIEWER, Role.ADMIN})
FINANCE_STAFF = frozenset({Role.FINANCE, Role.ADMIN})
STAFF = REVIEWERS | FINANCE_STAFF


class Tab(StrEnum):
    ALL = "all"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDING = "refunding"


TAB_LABELS = {
    Tab.ALL: "全部",
    Tab.IN_PROGRESS: "交易中",
    Tab.COMPLETED: "交易成功",
    Tab.FAILED: "交易失败",
    Tab.REFUNDING: "退款中",
}

IN_PROGRESS_STATUSES = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.RETURNED, OrderStatus.APPROVED}
)
