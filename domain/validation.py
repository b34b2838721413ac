"""Field rules of DOMAIN.md §6; each returns an error sentence or None."""

from __future__ import annotations

import re

MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
BANK_CARD = re.compile(r"^\d{12,19}$")
TAXPAYER_ID = re.compile(r"^[0-9A-Z]+$")

# GB 32100-2015: the unified social credit code alphabet (no I, O, S, V, Z) and weights.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_error(code: str) -> str | None:
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return "统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z）"
    if uscc_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确"
    return None


def taxpayer_id_error(value: str) -> str | None:
    if len(value) not in (15, 17, 18, 20) or not TAXPAYER_ID.match(value):
        return "纳税人识别号应为15、17、18或20位数字或大写字母"
    if len(value) == 18:
        return uscc_error(value)
    return None


# C0 controls but tab and line breaks, and DEL. NUL above all: PostgreSQL cannot store it.
CONTROL_CHARACTERS = frozenset(
    chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)
)


def printable_error(value: str) -> str | None:
    if any(c in CONTROL_CHARACTERS for c in value):
        return "不能包含控制字符"
    return None


def mobile_error(value: str) -> str | None:
    return None if MOBILE.match(value) else "请输入正确的11位手机号"


def email_error(value: str) -> str | None:
    return None if EMAIL.match(value) and len(value) <= 254 else "请输入正确的邮箱地址"


def bank_card_error(value: str) -> str | None:
    return None if BANK_CARD.match(value) else "银行卡号应为12至19位数字"


def mask_card(card_no: str) -> str:
    """``6222021234561234`` → ``6222 **** **** 1234``: the only form a card leaves the system in."""
    if len(card_no) < 8:
        return "****"
    return f"{card_no[:4]} **** **** {card_no[-4:]}"
