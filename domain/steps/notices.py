"""What an order keeps of its e-mails: a notice that can never be sent is written down."""

from __future__ import annotations

from datetime import datetime

from domain.notices import Notice
from domain.order import SYSTEM_ACTOR, OrderState
from domain.steps.bookkeeping import record

NOTICE_FAILED = "notice_failed"
NOTICE_FAILED_LABEL = "通知发送失败"


def record_failed_notice(state: OrderState, at: datetime, notice: Notice, reason: str) -> None:
    """A line in the order's 操作记录 (a new version, so the projection shows it): the buyer
    or the back office learn that this e-mail will not arrive, and why."""
    record(state, at, SYSTEM_ACTOR, NOTICE_FAILED, f"{notice.template.label} 发送失败: {reason}")
    state.version += 1
