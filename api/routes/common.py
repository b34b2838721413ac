"""Query parameters shared by the list routes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Header, Query

from api.errors import field_error
from db.queries import OrderFilter, Page
from domain.calendar import SHANGHAI
from domain.statuses import Tab

PageNo = Annotated[int, Query(ge=1, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=100, description="items per page (max 100)")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def time_bound(field: str, value: str | None, *, end_of_day: bool) -> datetime | None:
    """A date (whole day in Shanghai) or an ISO datetime; naive times are Shanghai time."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, SHANGHAI)
            return moment + timedelta(days=1) - timedelta(microseconds=1) if end_of_day else moment
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise field_error(field, "expected a date (2022-10-18) or an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def order_filter(
    buyer: str | None,
    order_no: str | None,
    service_market_order_no: str | None,
    platform: str | None,
    shop_name: str | None,
    invoice_no: str | None,
    invoice_status: str | None,
    placed_from: str | None,
    placed_to: str | None,
) -> OrderFilter:
    return OrderFilter(
        buyer=buyer,
        order_no=order_no,
        service_market_order_no=service_market_order_no,
        platform=platform,
        shop_name=shop_name,
        invoice_no=invoice_no,
        invoice_status=invoice_status,
        placed_from=time_bound("placed_from", placed_from, end_of_day=False),
        placed_to=time_bound("placed_to", placed_to, end_of_day=True),
    )


__all__ = ["IdempotencyKey", "Page", "PageNo", "PageSize", "Tab", "order_filter", "time_bound"]
