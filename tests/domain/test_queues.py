"""The work queues' clocks (domain.queues): which work is open, when its limit runs out, and
that an item is flagged once per stage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import lifecycle, queues
from domain.commands import Approve, ConfirmReceipt, EditOrder, ReturnOrder
from domain.notices import Template
from domain.order import QueueLimits
from domain.queues import Queue
from domain.statuses import Role, SettlementMode
from settings import Settings
from tests.domain.test_lifecycle_rules import AT, BUYER, REVIEWER, order


def test_track_starts_a_clock_for_new_work_with_the_orders_limit() -> None:
    state = order()
    state.queue_limits = QueueLimits(review=timedelta(hours=5))
    queues.track(state, AT)
    [clock] = state.queue_clocks
    assert (clock.queue, clock.item_id, clock.since, clock.due) == (
        "review",
        state.order_no,
        AT,
        AT + timedelta(hours=5),
    )
    assert queues.next_due(state) == AT + timedelta(hours=5)


def test_flag_overdue_flags_once_and_names_the_stage_in_the_occasion() -> None:
    state = order()
    queues.track(state, AT)
    assert queues.flag_overdue(state, AT + timedelta(days=1)) == []
    [notice] = queues.flag_overdue(state, AT + timedelta(days=2))
    assert notice.template is Template.STAFF_OVERDUE and notice.staff is Role.REVIEWER
    assert notice.to == [] and notice.context["limit"] == "2天"
    assert queues.is_overdue(state, state.order_no) and queues.next_due(state) is None
    assert queues.flag_overdue(state, AT + timedelta(days=9)) == []


def test_returned_and_resubmitted_order_gets_a_new_clock() -> None:
    state = order()
    queues.track(state, AT)
    queues.flag_overdue(state, AT + timedelta(days=3))
    lifecycle.apply(state, ReturnOrder(actor=REVIEWER, reason="店铺名称有误"), AT)
    assert state.queue_clocks == []
    later = AT + timedelta(days=4)
    lifecycle.apply(state, EditOrder(actor=BUYER, shop_name="新店"), later)
    [clock] = state.queue_clocks
    assert clock.since == later and clock.flagged_at is None


def test_confirmed_invoice_only_order_waits_in_the_invoice_queue() -> None:
    state = order(SettlementMode.INVOICE_ONLY)
    lifecycle.apply(state, Approve(actor=REVIEWER), AT)
    assert queues.open_work(state) == []
    lifecycle.apply(state, ConfirmReceipt(actor=BUYER), AT)
    assert [c.queue for c in state.queue_clocks] == [Queue.INVOICE_ISSUE.value]
    assert queues.items(state)[0].due == AT + timedelta(days=7)


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (timedelta(days=2), "2天"),
        (timedelta(days=1, hours=12), "1天12小时"),
        (timedelta(minutes=10), "10分钟"),
    ],
)
def test_describe_limit_reads_like_people_write_it(limit: timedelta, text: str) -> None:
    assert queues.describe_limit(limit) == text


def test_settings_time_limits_fill_the_orders_limits() -> None:
    settings = Settings(environment="development", sla_invoice_issue="P10D", sla_review="PT12H")
    limits = QueueLimits(**settings.time_limits)
    assert limits.invoice_issue == timedelta(days=10) and limits.review == timedelta(hours=12)
    assert limits.payout == timedelta(days=3)


@pytest.mark.parametrize(
    "bad",
    [
        {"sla_payout": "3d"},
        {"sla_review": "P1Y"},
        {"staff_emails": "boss=a@x.com"},
        {"staff_emails": "finance=not-an-address"},
        {"staff_emails": "reviewer=a@x.com;reviewer=b@x.com"},
    ],
)
def test_settings_refuse_bad_time_limits_and_staff_emails(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"SLA_|STAFF_EMAILS"):
        Settings.model_validate({"environment": "development", **bad})


def test_staff_emails_are_listed_per_role() -> None:
    settings = Settings(
        environment="development", staff_emails="reviewer=a@x.com, b@x.com ; finance=c@x.com"
    )
    assert settings.staff_recipients("reviewer") == ["a@x.com", "b@x.com"]
    assert settings.staff_recipients("finance") == ["c@x.com"]
    assert Settings(environment="development").staff_recipients("finance") == []
