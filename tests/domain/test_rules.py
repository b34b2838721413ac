"""Pure business rules: identifiers, calendar, money, field validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain import ids, validation
from domain.calendar import SHANGHAI, add_calendar_years, reminder_times, service_end
from domain.inputs import InvoiceProfileInput, RefundAccountInput
from domain.money import format_fen, share_of
from settings import parse_service_term

GUIDE_ORDER_TIME = datetime(2022, 10, 18, 14, 8, 31, tzinfo=SHANGHAI)


def test_order_no_matches_the_guides_format() -> None:
    number = ids.order_no(GUIDE_ORDER_TIME, 4977)
    assert number == "BS-ZX202210181408314977"
    assert ids.ORDER_NO_PATTERN.match(number)


def test_order_no_uses_shanghai_time_for_a_utc_moment() -> None:
    assert (
        ids.order_no(datetime(2022, 10, 18, 6, 8, 31, tzinfo=UTC), 1) == "BS-ZX202210181408310001"
    )


def test_serial_no_is_day_plus_six_digit_sequence() -> None:
    assert ids.serial_no(ids.serial_period(GUIDE_ORDER_TIME), 175) == "221018000175"


def test_serial_no_refuses_a_seventh_digit() -> None:
    with pytest.raises(ValueError):
        ids.serial_no("221018", 1_000_000)


def test_invoice_app_no_matches_the_guides_format() -> None:
    assert ids.invoice_app_no(GUIDE_ORDER_TIME, 40772) == "KP_202210_00040772"


def test_refund_id_is_tk_and_the_orders_digits() -> None:
    assert ids.refund_id_for("BS-ZX202210181408314977") == "TK202210181408314977"


def test_service_end_is_one_calendar_year_later() -> None:
    assert service_end(GUIDE_ORDER_TIME) == datetime(2023, 10, 18, 14, 8, 31, tzinfo=SHANGHAI)


def test_service_end_of_29_february_is_28_february() -> None:
    leap = datetime(2024, 2, 29, 9, 0, tzinfo=SHANGHAI)
    assert service_end(leap) == datetime(2025, 2, 28, 9, 0, tzinfo=SHANGHAI)


def test_service_end_keeps_shanghai_wall_clock_for_utc_input() -> None:
    moment = datetime(2024, 2, 28, 17, 0, tzinfo=UTC)  # 29 Feb 01:00 in Shanghai
    assert service_end(moment).astimezone(SHANGHAI) == datetime(2025, 2, 28, 1, 0, tzinfo=SHANGHAI)


def test_service_end_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError):
        service_end(datetime(2022, 10, 18))


def test_add_calendar_years_keeps_ordinary_dates() -> None:
    assert add_calendar_years(GUIDE_ORDER_TIME, 2).year == 2024


def test_reminders_before_the_order_time_are_skipped() -> None:
    end = GUIDE_ORDER_TIME + timedelta(days=10)
    assert [days for days, _ in reminder_times(GUIDE_ORDER_TIME, end)] == [7, 1]


def test_service_term_parses_years_and_time() -> None:
    assert parse_service_term("P1Y") == (1, timedelta(0))
    assert parse_service_term("PT10M") == (0, timedelta(minutes=10))
    assert parse_service_term("P1DT2H") == (0, timedelta(days=1, hours=2))


@pytest.mark.parametrize("bad", ["", "P", "1Y", "P1M", "PT0S", "P-1Y"])
def test_service_term_refuses_what_is_not_a_positive_duration(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_service_term(bad)


@pytest.mark.parametrize(
    ("fen", "text"),
    [(200_000, "RMB 2000.00"), (5, "RMB 0.05"), (0, "RMB 0.00"), (123_456, "RMB 1234.56")],
)
def test_format_fen_prints_like_the_guide(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_share_of_rounds_half_up() -> None:
    assert share_of(1, 5000) == 1
    assert share_of(3, 5000) == 2
    assert share_of(200_000, 5000) == 100_000


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_share_of_never_exceeds_the_base(base: int, share_bp: int) -> None:
    # The invoice share is base - refundable: both are whole fen and add up to the base.
    assert 0 <= share_of(base, share_bp) <= base


def test_uscc_with_a_valid_check_character_is_accepted() -> None:
    assert validation.uscc_error("91350100M000100Y43") is None


def test_uscc_with_a_wrong_check_character_is_refused() -> None:
    assert validation.uscc_error("91350100M000100Y44") == "统一社会信用代码校验位不正确"


def test_uscc_with_a_forbidden_letter_is_refused() -> None:
    assert validation.uscc_error("91350100M000100O43") is not None


@pytest.mark.parametrize(
    "taxpayer", ["110101123456789", "11010112345678901", "11010112345678901234"]
)
def test_taxpayer_id_of_15_17_or_20_characters_is_accepted(taxpayer: str) -> None:
    assert validation.taxpayer_id_error(taxpayer) is None


@pytest.mark.parametrize("taxpayer", ["56534545365", "1234567890123456", "91350100m000100y43"])
def test_taxpayer_id_of_other_lengths_or_lowercase_is_refused(taxpayer: str) -> None:
    assert validation.taxpayer_id_error(taxpayer) is not None


@pytest.mark.parametrize(
    ("mobile", "ok"), [("19390000000", True), ("12390000000", False), ("1939000000", False)]
)
def test_mobile_follows_the_mainland_pattern(mobile: str, ok: bool) -> None:
    assert (validation.mobile_error(mobile) is None) is ok


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("lilei@example.com", True),
        ("li.lei+e3@mail.baison.com.cn", True),
        ("lilei@example", False),  # no dot in the domain
        ("li lei@example.com", False),
        ("lilei@localhost", False),  # special-use name, not deliverable anywhere
        ('"quoted"@example.com', False),
        ("李雷@example.com", False),  # would need SMTPUTF8
        ("lilei@例子.中国", False),
        ("a" * 60 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com", False),  # over 254
    ],
)
def test_email_syntax_is_email_validators_without_a_dns_lookup(email: str, ok: bool) -> None:
    assert (validation.email_error(email) is None) is ok


@pytest.mark.parametrize(
    ("card", "ok"),
    [
        ("622202123456", True),
        ("6222021234567891234", True),
        ("62220212345", False),
        ("6222 0212 3456", False),
    ],
)
def test_bank_card_is_12_to_19_digits(card: str, ok: bool) -> None:
    assert (validation.bank_card_error(card) is None) is ok


def test_mask_card_shows_only_first_and_last_four() -> None:
    assert validation.mask_card("6222021234561234") == "6222 **** **** 1234"


def test_invoice_profile_input_reports_each_bad_field() -> None:
    with pytest.raises(ValidationError) as failure:
        InvoiceProfileInput(
            invoice_type="vat_special",  # type: ignore[arg-type]
            title="",
            taxpayer_id="91350100M000100Y44",
            recipient_name="张三",
            recipient_mobile="123",
            recipient_address="上海",
        )
    fields = {error["loc"][0] for error in failure.value.errors()}
    assert fields == {"title", "taxpayer_id", "recipient_mobile"}


def test_invoice_profile_input_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        InvoiceProfileInput.model_validate(
            {
                "invoice_type": "vat_normal",
                "title": "快乐贸易有限公司",
                "taxpayer_id": "91350100M000100Y43",
                "recipient_name": "张三",
                "recipient_mobile": "19390000000",
                "recipient_address": "上海",
                "owner": "zhangsan",
            }
        )


def test_refund_account_input_refuses_a_short_card() -> None:
    with pytest.raises(ValidationError) as failure:
        RefundAccountInput(
            refund_type="enterprise",  # type: ignore[arg-type]
            account_name="快乐贸易有限公司",
            bank="工行",
            branch="陆家嘴支行",
            card_no="1234",
            region="上海",
        )
    assert failure.value.errors()[0]["loc"] == ("card_no",)
