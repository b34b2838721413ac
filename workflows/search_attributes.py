"""The search attributes ops filter runs by in the Temporal UI."""

from __future__ import annotations

from typing import Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from domain.order import OrderState
from domain.statuses import InvoiceStatus

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
REFUND_STATUS = SearchAttributeKey.for_keyword("RefundStatus")
# Every status the order's invoice applications are in, so "InvoiceStatus='applied'" finds
# each order with an application to issue, whatever its other application is doing.
INVOICE_STATUS = SearchAttributeKey.for_keyword_list("InvoiceStatus")
PLATFORM = SearchAttributeKey.for_keyword("Platform")
PRODUCT_LINE = SearchAttributeKey.for_keyword("ProductLine")
SHOP_NAME = SearchAttributeKey.for_keyword("ShopName")
SERVICE_MARKET_ORDER_NO = SearchAttributeKey.for_keyword("ServiceMarketOrderNo")
BUYER_ID = SearchAttributeKey.for_keyword("BuyerId")
SERVICE_END = SearchAttributeKey.for_datetime("ServiceEnd")

ALL_KEYS = (
    ORDER_STATUS,
    REFUND_STATUS,
    INVOICE_STATUS,
    PLATFORM,
    PRODUCT_LINE,
    SHOP_NAME,
    SERVICE_MARKET_ORDER_NO,
    BUYER_ID,
    SERVICE_END,
)


def _values(state: OrderState) -> list[tuple[SearchAttributeKey[Any], Any]]:
    """The attribute values that describe ``state`` now ("none" where nothing exists yet)."""
    invoice_statuses = [
        s.value for s in InvoiceStatus if any(i.status is s for i in state.invoices)
    ]
    return [
        (ORDER_STATUS, state.status.value),
        (REFUND_STATUS, state.refund.status.value if state.refund else "none"),
        (INVOICE_STATUS, invoice_statuses or ["none"]),
        (PLATFORM, state.product.platform.value),
        (PRODUCT_LINE, state.product.line),
        (SHOP_NAME, state.shop_name),
        (SERVICE_MARKET_ORDER_NO, state.service_market_order_no),
        (BUYER_ID, state.buyer),
        (SERVICE_END, state.service_end_at),
    ]


def updates_for(state: OrderState) -> list[SearchAttributeUpdate[Any]]:
    """For ``workflow.upsert_search_attributes`` at each transition."""
    return [key.value_set(value) for key, value in _values(state)]


def typed_for(state: OrderState) -> TypedSearchAttributes:
    """For ``start_workflow``, so a run is findable from its first moment."""
    return TypedSearchAttributes([SearchAttributePair(key, value) for key, value in _values(state)])
