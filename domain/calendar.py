"""Calendar rules: the service term and reminder times. Stored UTC, shown Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Days before service end at which the buyer and the reminder recipients are e-mailed.
REMINDER_DAYS_BEFORE = (30, 7, 1)


def add_calendar_years(moment: datetime, years: int) -> datetime:
    """Same wall-clock time ``years`` later in Shanghai; 29 Feb becomes 28 Feb."""
    local = moment.astimezone(SHANGHAI)
    try:
        shifted = local.replace(year=local.year + years)
    except ValueError:  # 29 February in a year that has none
        shifted = local.replace(year=local.year + years, day=28)
    return shifted.astimezone(moment.tzinfo)


def service_end(
    placed_at: datetime, years: int = 1, remainder: timedelta = timedelta(0)
) -> datetime:
    """Service end (服务终止): the order time plus the service term."""
    if placed_at.tzinfo is None:
        raise ValueError("placed_at must carry a time zone")
    return add_calendar_years(placed_at, years) + remainder


def reminder_times(placed_at: datetime, end: datetime) -> list[tuple[int, datetime]]:
    """(days before, when) for each reminder that falls after the order time, earliest first."""
    due = [(days, end - timedelta(days=days)) for days in REMINDER_DAYS_BEFORE]
    return [(days, at) for days, at in due if at > placed_at]


def shanghai(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def format_local(moment: datetime) -> str:
    return shanghai(moment).strftime("%Y-%m-%d %H:%M:%S")


def format_local_date(moment: datetime) -> str:
    return shanghai(moment).strftime("%Y-%m-%d")
