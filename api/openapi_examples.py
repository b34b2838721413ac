"""An example of every request body the OpenAPI document shows, from the guide's JD order of
快乐贸易有限公司 (buyer leiliang). Keyed by the body's model; tests check each one is valid."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.schemas import (
    ApproveIn,
    IssueInvoiceIn,
    NoteIn,
    PasswordChangeIn,
    PayoutIn,
    ReasonIn,
    RefundDecisionIn,
    RefundForm,
    ShipInvoiceIn,
)
from domain.account import AccountInput
from domain.inputs import (
    AddressInput,
    InvoiceProfileInput,
    InvoiceProfilePatch,
    PlaceOrderInput,
    SupplementaryPatch,
)

PROFILE = {
    "invoice_type": "vat_special",
    "title": "快乐贸易有限公司",
    "taxpayer_id": "91350100M000100Y43",
    "recipient_name": "张三",
    "recipient_mobile": "19390000000",
    "recipient_address": "上海市浦东新区峨山路91弄120号",
}
CONSIGNEE = {
    "name": "张三",
    "mobile": "19390000000",
    "postcode": "200127",
    "address": "上海市浦东新区峨山路91弄120号",
}

BODIES: dict[type[BaseModel], dict[str, Any]] = {
    PasswordChangeIn: {"current_password": "demo", "new_password": "换一个更长的密码2026"},
    AccountInput: {"contact_name": "李雷", "mobile": "13800138000", "email": "lilei@example.com"},
    InvoiceProfileInput: PROFILE,
    InvoiceProfilePatch: {"recipient_address": "上海市浦东新区峨山路91弄98号"},
    AddressInput: CONSIGNEE | {"is_default": True},
    PlaceOrderInput: {
        "product_code": "JD0001",
        "module_codes": ["ERP"],
        "invoice_profile_id": 1,
        "contract_name": "快乐贸易京东店铺订购合同",
        "service_market_order_no": "JD20221018001",
        "shop_name": "快乐贸易京东旗舰店",
        "seller_nick": "kuaile",
        "baison_staff": "王工",
        "reminder_name": "李雷",
        "reminder_mobile": "13800138000",
        "reminder_email": "lilei@example.com",
        "consignee": CONSIGNEE,
        "remark": "请尽快开通",
        "agreement_accepted": True,
    },
    SupplementaryPatch: {"shop_name": "快乐贸易京东专营店", "reminder_backup_email": None},
    RefundDecisionIn: {"decision": "refund"},
    # An enterprise refund needs no proof; an individual one adds the file ``proof``.
    RefundForm: {
        "refund_type": "enterprise",
        "account_name": "快乐贸易有限公司",
        "bank": "中国工商银行",
        "branch": "上海陆家嘴支行",
        "card_no": "6222021234567891234",
        "region": "上海市",
    },
    ApproveIn: {"platform_amount_fen": 120000, "note": "平台实付已核对"},
    ReasonIn: {"reason": "店铺名称与服务市场订单不一致，请修改"},
    NoteIn: {"note": "平台已于 10 月 20 日结算"},
    IssueInvoiceIn: {"invoice_number": "04400221", "issued_at": "2022-10-21T10:00:00+08:00"},
    ShipInvoiceIn: {"courier": "顺丰速运", "tracking_no": "SF1234567890"},
    PayoutIn: {
        "amount_fen": 60000,
        "bank_reference": "ICBC20221025000123",
        "paid_at": "2022-10-25T15:30:00+08:00",
    },
}

# Bodies FastAPI names itself (a form of plain parameters), by their schema name.
FORMS: dict[str, dict[str, Any]] = {
    "Body_sign_in_api_auth_token_post": {"username": "leiliang", "password": "demo"},
    "Body_confirm_payout_batch_api_finance_payouts_batch_post": {
        "file": "退款编号,退款金额(元),银行流水号\nTK202210181408310000,600.00,ICBC20221025000123\n"
    },
}


def by_schema_name() -> dict[str, dict[str, Any]]:
    return {model.__name__: body for model, body in BODIES.items()} | FORMS
