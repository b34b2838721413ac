"""Query parameters the list routes share, as models (FastAPI reads them with Query())."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from api import cursors
from api.schemas import MAX_YEAR, MIN_YEAR
from db.queries import OrderFilter, Page, RefundFilter
from domain.calendar import SHANGHAI
from domain.catalog import Platform
from domain.statuses import (
    BACK_OFFICE_INVOICE_STATUSES,
    InvoiceStatus,
    OrderStatus,
    RefundStatus,
    Tab,
)

# Pydantic would read a bare number as a Unix time; the contract takes ISO-8601 only.
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
NOT_ISO = "请填写日期（如 2022-10-18）或 ISO-8601 时间"


def _date_or_time(value: object) -> object:
    """``2022-10-18`` is a whole day; anything longer is a moment."""
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        raise ValueError(NOT_ISO)
    if isinstance(value, str) and len(value.strip()) == len("2022-10-18"):
        return date.fromisoformat(value.strip())
    return value


def _plausible(value: date | datetime | None) -> date | datetime | None:
    """Years a list can be filtered by; past these, converting to UTC would overflow."""
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"年份须在 {MIN_YEAR} 至 {MAX_YEAR} 之间")
    return value


Bound = Annotated[
    date | datetime | None, BeforeValidator(_date_or_time), AfterValidator(_plausible)
]


def _start(bound: date | datetime | None) -> datetime | None:
    """The first moment a bound admits; times without a zone are Shanghai time."""
    if bound is None:
        return None
    if isinstance(bound, datetime):
        return bound if bound.tzinfo else bound.replace(tzinfo=SHANGHAI)
    return datetime.combine(bound, time.min, SHANGHAI)


def _end(bound: date | datetime | None) -> datetime | None:
    """The last moment a bound admits: a day runs to its last microsecond."""
    if bound is None or isinstance(bound, datetime):
        return _start(bound)
    return datetime.combine(bound + timedelta(days=1), time.min, SHANGHAI) - timedelta(
        microseconds=1
    )


# Past any real list, and small enough that the row offset fits the database's integers.
MAX_PAGE = 1_000_000


class PageParams(BaseModel):
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="page number, from 1")
    page_size: int = Field(default=20, ge=1, le=100, description="items per page, at most 100")

    def as_page(self) -> Page:
        return Page(number=self.page, size=self.page_size)


def _readable_cursor(value: str | None) -> str | None:
    if value is not None:
        cursors.decode(value, max_page=MAX_PAGE)
    return value


class OrderParams(PageParams):
    cursor: Annotated[str | None, AfterValidator(_readable_cursor)] = Field(
        default=None,
        max_length=200,
        description="`next_cursor` of the page before: the next page, found from its place "
        "instead of by skipping every order before it (deep pages); `page` is then ignored",
    )
    order_no: str | None = None
    service_market_order_no: str | None = None
    platform: Platform | None = None
    shop_name: str | None = Field(default=None, description="part of the shop name")
    invoice_no: str | None = Field(
        default=None, description="开票编号 (KP_…) or the invoice number (发票号)"
    )
    invoice_status: InvoiceStatus | None = None
    status: OrderStatus | None = None
    tab: Tab = Tab.ALL
    placed_from: Bound = Field(default=None, description="a date or an ISO-8601 time")
    placed_to: Bound = Field(default=None, description="a date (inclusive) or an ISO-8601 time")

    def as_page(self) -> Page:
        if self.cursor is None:
            return super().as_page()
        position = cursors.decode(self.cursor, max_page=MAX_PAGE)
        return Page(number=position.page, size=self.page_size, after=position.after)

    def filters(self) -> OrderFilter:
        return OrderFilter(
            order_no=self.order_no,
            service_market_order_no=self.service_market_order_no,
            platform=self.platform.value if self.platform else None,
            shop_name=self.shop_name,
            invoice_no=self.invoice_no,
            invoice_status=self.invoice_status.value if self.invoice_status else None,
            status=self.status.value if self.status else None,
            placed_from=_start(self.placed_from),
            placed_to=_end(self.placed_to),
        )


class RefundParams(PageParams):
    order_no: str | None = None
    service_market_order_no: str | None = None
    shop_name: str | None = Field(default=None, description="part of the shop name")
    platform: Platform | None = None
    status: RefundStatus | None = None
    applied_from: Bound = Field(default=None, description="a date or an ISO-8601 time")
    applied_to: Bound = Field(default=None, description="a date (inclusive) or an ISO-8601 time")

    def filters(self) -> RefundFilter:
        return RefundFilter(
            order_no=self.order_no,
            service_market_order_no=self.service_market_order_no,
            shop_name=self.shop_name,
            platform=self.platform.value if self.platform else None,
            status=self.status.value if self.status else None,
            applied_from=_start(self.applied_from),
            applied_to=_end(self.applied_to),
        )


class InvoiceParams(PageParams):
    order_no: str | None = None
    status: InvoiceStatus | None = None

    def statuses(self) -> frozenset[InvoiceStatus] | None:
        return None if self.status is None else frozenset({self.status})


ALL_STATUSES = "all"


class AdminInvoiceParams(PageParams):
    """开票管理: without a status, the back office's queue (已申请 to issue, 已开票 until
    shipped); ``all`` for every status."""

    order_no: str | None = None
    status: InvoiceStatus | Literal["all"] | None = Field(
        default=None,
        description="one status, `all`, or left out for the queue: applied and issued "
        "(an issued application stays listed until shipped)",
    )

    def statuses(self) -> frozenset[InvoiceStatus] | None:
        if self.status is None:
            return BACK_OFFICE_INVOICE_STATUSES
        if self.status == ALL_STATUSES:
            return None
        return frozenset({InvoiceStatus(self.status)})


class FinanceRefundParams(PageParams):
    status: RefundStatus = RefundStatus.AGREED


class PayoutParams(PageParams):
    format: Literal["json", "csv"] = "json"
