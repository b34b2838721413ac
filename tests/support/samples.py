"""The sample company of the guide (快乐贸易有限公司, buyer leiliang) as every layer spells it:
request bodies for the HTTP API and the domain values the workflow tests and the bench use."""

from __future__ import annotations

import uuid
from typing import Any

from domain.commands import RefundAccount
from domain.order import Actor, BankCardRef, InvoiceProfileSnapshot, ProofRef
from domain.statuses import InvoiceType, RefundType, Role

BUYER = Actor(username="leiliang", role=Role.BUYER, company="快乐贸易有限公司")
OTHER_BUYER = Actor(username="zhangsan", role=Role.BUYER, company="示例科技有限公司")
REVIEWER = Actor(username="bmp", role=Role.REVIEWER, company="百胜软件")
FINANCE = Actor(username="finance", role=Role.FINANCE, company="百胜软件")

PROFILE: dict[str, str] = {
    "invoice_type": "vat_special",
    "title": "快乐贸易有限公司",
    "taxpayer_id": "91350100M000100Y43",
    "recipient_name": "张三",
    "recipient_mobile": "19390000000",
    "recipient_address": "上海市浦东新区峨山路91弄120号",
}
PROFILE_SNAPSHOT = InvoiceProfileSnapshot(
    profile_id=1, **(PROFILE | {"invoice_type": InvoiceType(PROFILE["invoice_type"])})
)

# Who to remind and who sold the order: the same on every sample order.
ORDER_CONTACTS: dict[str, str] = {
    "seller_nick": "kuaile",
    "baison_staff": "王工",
    "reminder_name": "李雷",
    "reminder_mobile": "13800138000",
    "reminder_email": "lilei@example.com",
}

CARD_NO = "6222021234567891234"
REFUND_ACCOUNT: dict[str, str] = {
    "account_name": "快乐贸易有限公司",
    "bank": "中国工商银行",
    "branch": "上海陆家嘴支行",
    "card_no": CARD_NO,
    "region": "上海市",
}
REFUND_FORM: dict[str, str] = {"refund_type": "individual", **REFUND_ACCOUNT}
# An enterprise refund needs no proof.
ENTERPRISE_REFUND_FORM: dict[str, str] = {"refund_type": "enterprise", **REFUND_ACCOUNT}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A proof as the workflow holds it (a claim check); the file itself is not needed.
PROOF = ProofRef(
    key="ab" * 32 + ".pdf",
    filename="证明.pdf",
    content_type="application/pdf",
    size=1234,
    sha256="ab" * 32,
)


# The sample card as the API's card vault names it to the workflow (a made-up reference).
CARD = BankCardRef(card_ref="c0ffee" * 5 + "01", card_no_masked="6222 **** **** 1234")


def refund_account(refund_type: RefundType) -> RefundAccount:
    """The refund account as a command carries it: the card by its vault reference."""
    fields = {k: v for k, v in REFUND_ACCOUNT.items() if k != "card_no"}
    return RefundAccount(refund_type=refund_type, card=CARD, **fields)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def order_body(profile_id: int, **overrides: Any) -> dict[str, Any]:
    """The body of POST /api/orders for a JD order of the sample company."""
    body: dict[str, Any] = {
        "product_code": "JD0001",
        "module_codes": ["ERP"],
        "invoice_profile_id": profile_id,
        "service_market_order_no": unique("SM"),
        "shop_name": "快乐京东旗舰店",
        **ORDER_CONTACTS,
        "agreement_accepted": True,
    }
    body.update(overrides)
    return body
