"""The order lists' keyset cursor: where the next page starts, as an opaque string.

A client that pages deep sends back the ``next_cursor`` of the page it has; the next page is
then found from its place in the index instead of by skipping every row before it. The
cursor carries the page number it leads to, so the answer's ``page`` stays what API.md says.
It names only a position: the filters and the buyer scope still decide what is listed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from db.queries import OrderKey

BAD_CURSOR = "翻页位置（cursor）无效，请从第一页重新翻页"


@dataclass(frozen=True)
class Cursor:
    page: int
    after: OrderKey


def encode(page: int, after: OrderKey) -> str:
    placed_at, order_no = after
    text = json.dumps([page, placed_at.isoformat(), order_no], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, *, max_page: int) -> Cursor:
    """The position ``cursor`` names; ValueError (in Chinese) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        page, placed_at, order_no = json.loads(raw)
        at = datetime.fromisoformat(placed_at)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
        raise ValueError(BAD_CURSOR) from error
    valid = (
        type(page) is int
        and 1 < page <= max_page
        and at.tzinfo is not None
        and isinstance(order_no, str)
        and 0 < len(order_no) <= 32
    )
    if not valid:
        raise ValueError(BAD_CURSOR)
    return Cursor(page=page, after=(at, order_no))
