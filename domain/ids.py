"""Identifier formats of the guide: 主订单号, 交易流水号, 开票编号 and the refund id."""

from __future__ import annotations

import re
from datetime import datetime

from domain.calendar import shanghai

ORDER_NO_PATTERN = re.compile(r"^BS-ZX\d{14}\d{4}$")
SERIAL_NO_PATTERN = re.compile(r"^\d{6}\d{6}$")
INVOICE_APP_NO_PATTERN = re.compile(r"^KP_\d{6}_\d{8}$")
REFUND_ID_PATTERN = re.compile(r"^TK\d{18}$")


def order_no(placed_at: datetime, suffix: int) -> str:
    """``BS-ZX`` + local ``yyyyMMddHHmmss`` + 4 digits, e.g. ``BS-ZX202210181408314977``."""
    if not 0 <= suffix <= 9999:
        raise ValueError("the order number suffix has 4 digits")
    return f"BS-ZX{shanghai(placed_at):%Y%m%d%H%M%S}{suffix:04d}"


def serial_period(placed_at: datetime) -> str:
    """The day a transaction serial number counts in: local ``yyMMdd``."""
    return f"{shanghai(placed_at):%y%m%d}"


def serial_no(period: str, sequence: int) -> str:
    """``yyMMdd`` + 6-digit daily sequence, e.g. ``221018000175``."""
    if not 1 <= sequence <= 999_999:
        raise ValueError("the daily transaction sequence has 6 digits")
    return f"{period}{sequence:06d}"


def invoice_app_no(created_at: datetime, sequence: int) -> str:
    """``KP_yyyyMM_`` + 8 digits, e.g. ``KP_202210_00040772``."""
    if not 1 <= sequence <= 99_999_999:
        raise ValueError("the invoice application sequence has 8 digits")
    return f"KP_{shanghai(created_at):%Y%m}_{sequence:08d}"


def invoice_sequence_of(invoice_app_no: str) -> int:
    """The 8-digit sequence of an invoice application number (unique on its own)."""
    return int(invoice_app_no.rsplit("_", 1)[1])


def refund_id_for(order_number: str) -> str:
    """An order has at most one refund, so its id is derived: ``TK`` + the order's digits."""
    if not ORDER_NO_PATTERN.match(order_number):
        raise ValueError(f"{order_number!r} is not a main order number")
    return "TK" + order_number.removeprefix("BS-ZX")


def order_no_of_refund(refund_id: str) -> str:
    """The order a refund id was derived from (``refund_id_for`` backwards)."""
    if not REFUND_ID_PATTERN.match(refund_id):
        raise ValueError(f"{refund_id!r} is not a refund id")
    return "BS-ZX" + refund_id.removeprefix("TK")
