"""Field rules of DOMAIN.md §6; each returns an error sentence or None."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

MOBILE = re.compile(r"^1[3-9]\d{9}$")
BANK_CARD = re.compile(r"^\d{12,19}$")
TAXPAYER_ID = re.compile(r"^[0-9A-Z]+$")
POSTCODE = re.compile(r"^\d{6}$")
# 固定电话: digits with optional hyphens (area code, number, extension), e.g. 021-12345678.
LANDLINE = re.compile(r"^\d[\d-]{5,18}\d$")
REMARK_MAX = 200

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


def postcode_error(value: str) -> str | None:
    return None if POSTCODE.match(value) else "邮政编码应为6位数字"


def landline_error(value: str) -> str | None:
    return None if LANDLINE.match(value) else "请输入正确的固定电话，如 021-12345678"


def remark_error(value: str) -> str | None:
    return None if len(value) <= REMARK_MAX else f"备注最多{REMARK_MAX}个字"


def email_error(value: str) -> str | None:
    """RFC 5321/5322 syntax by email-validator (no DNS lookup: placing an order must not
    wait on the network); ASCII only, since the mail relay is not assumed to speak SMTPUTF8."""
    if not value.isascii():  # an internationalised domain would need SMTPUTF8 too
        return "请输入正确的邮箱地址"
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return "请输入正确的邮箱地址"
    return None


def bank_card_error(value: str) -> str | None:
    return None if BANK_CARD.match(value) else "银行卡号应为12至19位数字"


def mask_card(card_no: str) -> str:
    """``6222021234561234`` → ``6222 **** **** 1234``: the only form a card leaves the system in."""
    if len(card_no) < 8:
        return "****"
    return f"{card_no[:4]} **** **** {card_no[-4:]}"


# Line and paragraph separators, and the bidi controls that can make a name read as another.
INVISIBLE_BREAKERS = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# The guide's names of the 补充信息 fields (what a buyer reads in forms and refusals).
SUPPLEMENTARY_LABELS = {
    "contract_name": "客户签约名称",
    "service_market_order_no": "服务市场订单号",
    "shop_name": "店铺名称",
    "seller_nick": "卖家 NICK",
    "baison_staff": "百胜服务人员",
    "reminder_name": "到期提醒接收人",
    "reminder_mobile": "到期提醒接收人手机",
    "reminder_email": "到期提醒接收人邮箱",
    "reminder_backup_email": "到期提醒备用接收邮箱",
}

# The guide's names of the 收货人信息 fields (收货地址 and the order's consignee).
CONSIGNEE_LABELS = {
    "name": "姓名",
    "mobile": "手机",
    "phone": "固定电话",
    "postcode": "邮政编码",
    "address": "地址",
}

# The Chinese name of each one-line field, for the sentence that refuses it.
ONE_LINE_FIELDS = SUPPLEMENTARY_LABELS | {
    "product_code": "商品编号",
    "module_codes": "附加服务",
    "title": "发票抬头",
    "recipient_name": "收件人",
    "recipient_address": "收件地址",
    "account_name": "开户名",
    "bank": "开户银行",
    "branch": "开户支行",
    "region": "开户地区",
    "reason": "原因",
    "note": "备注",
    "invoice_number": "发票号码",
    "courier": "快递公司",
    "tracking_no": "快递单号",
    "bank_reference": "银行流水号",
    "name": "收货人",
    "address": "收货地址",
    "remark": "备注",
}


# The Chinese name of every field a person can get wrong, for the sentence that refuses it.
FIELD_LABELS = ONE_LINE_FIELDS | {
    "invoice_type": "发票类型",
    "taxpayer_id": "纳税人识别号",
    "recipient_mobile": "收件人手机",
    "refund_type": "退款类型",
    "card_no": "银行卡号",
    "proof": "退款凭证",
    "invoice_profile_id": "发票信息",
    "agreement_accepted": "店铺订购协议",
    "decision": "是否退款",
    "consignee": "收货人信息",
    "address_id": "收货地址",
    "is_default": "默认地址",
    "mobile": "手机",
    "phone": "固定电话",
    "postcode": "邮政编码",
    "amount_fen": "金额",
    "platform_amount_fen": "平台订购金额",
    "paid_at": "打款时间",
    "issued_at": "开票日期",
    "username": "用户名",
    "password": "密码",
    "current_password": "当前密码",
    "new_password": "新密码",
    "company": "公司名称",
    "contact_name": "联系人",
    "email": "邮箱",
    "page": "页码",
    "page_size": "每页条数",
}


def is_one_line(value: str) -> bool:
    """No line break, tab or other control character (C0, DEL, C1), no separator or bidi
    control: what a name, a reason or a mail header may hold."""
    return not any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in INVISIBLE_BREAKERS for c in value
    )


def one_line_error(value: str, field: str | None = None) -> str | None:
    if is_one_line(value):
        return None
    return f"{ONE_LINE_FIELDS.get(field or '', '内容')}不能包含换行或控制字符"


def as_one_line(value: str) -> str:
    """``value`` with every line break and control character made a space: for text from
    older data that reaches a place where a break would do harm (a mail header)."""
    return "".join(" " if not is_one_line(c) else c for c in value)
