"""What people type, validated field by field before anything is stored."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from domain import regions, validation
from domain.statuses import InvoiceType, RefundType
from domain.validation import SUPPLEMENTARY_LABELS


def _check(rule):  # type: ignore[no-untyped-def]
    def validate(value: str) -> str:
        error = rule(value)
        if error:
            raise ValueError(error)
        return value

    return AfterValidator(validate)


Printable = _check(validation.printable_error)


def _one_line(value: str, info: ValidationInfo) -> str:
    error = validation.one_line_error(value, info.field_name)
    if error:
        raise ValueError(error)
    return value


# Names, reasons, notes, codes: a line break or control character in one would end up in a
# mail header, a CSV line or the page as something it is not.
ONE_LINE = AfterValidator(_one_line)
OneLine = Annotated[str, ONE_LINE]
# Stripped first, then checked: a trailing newline from a form is dropped, not refused.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), ONE_LINE
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), ONE_LINE
]
Mobile = Annotated[str, StringConstraints(strip_whitespace=True), _check(validation.mobile_error)]
Email = Annotated[str, StringConstraints(strip_whitespace=True), _check(validation.email_error)]
TaxpayerId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True),
    _check(validation.taxpayer_id_error),
]
Postcode = Annotated[
    str, StringConstraints(strip_whitespace=True), _check(validation.postcode_error)
]
Landline = Annotated[
    str, StringConstraints(strip_whitespace=True), _check(validation.landline_error)
]
Remark = Annotated[
    str, StringConstraints(strip_whitespace=True), _check(validation.remark_error), ONE_LINE
]
BankCard = Annotated[
    str, StringConstraints(strip_whitespace=True), _check(validation.bank_card_error)
]


class StrictInput(BaseModel):
    # Unknown fields are refused, so a buyer cannot slip in status, amounts or owner.
    model_config = ConfigDict(extra="forbid")


class InvoiceProfileInput(StrictInput):
    """发票信息: what a buyer saves and an order snapshots."""

    invoice_type: InvoiceType
    title: Text
    taxpayer_id: TaxpayerId
    recipient_name: Text
    recipient_mobile: Mobile
    recipient_address: LongText


class InvoiceProfilePatch(StrictInput):
    """发票修改: any subset of the profile fields."""

    invoice_type: InvoiceType | None = None
    title: Text | None = None
    taxpayer_id: TaxpayerId | None = None
    recipient_name: Text | None = None
    recipient_mobile: Mobile | None = None
    recipient_address: LongText | None = None


class ConsigneeInput(StrictInput):
    """收货人信息 as typed at the checkout, and the fields of a saved 收货地址."""

    name: Text
    mobile: Mobile
    phone: Landline | None = None
    postcode: Postcode
    address: LongText


class AddressInput(ConsigneeInput):
    """收货地址: a consignee the buyer keeps; ``is_default`` makes it the preselected one."""

    is_default: bool = False


class SupplementaryInfo(StrictInput):
    """补充信息 of an order."""

    contract_name: Text | None = None
    service_market_order_no: Code
    shop_name: Text
    seller_nick: Text
    baison_staff: Text
    reminder_name: Text
    reminder_mobile: Mobile
    reminder_email: Email
    reminder_backup_email: Email | None = None


# 补充信息 an order cannot be without; only the backup e-mail may be cleared.
REQUIRED_SUPPLEMENTARY = tuple(n for n in SUPPLEMENTARY_LABELS if n != "reminder_backup_email")
AGREEMENT_REFUSED = "请阅读并同意店铺订购协议"
CONSIGNEE_TWICE = "收货人信息请选择收货地址或填写，不能同时提供"


class ConsigneeChoice(StrictInput):
    """收货人信息 (optional) typed, or one of the buyer's saved addresses, and 备注; in an
    edit, ``consignee: null`` and an empty or null remark clear them."""

    consignee: ConsigneeInput | None = None
    address_id: int | None = None
    remark: Remark | None = None

    @field_validator("address_id")
    @classmethod
    def _one_consignee(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("consignee") is not None:
            raise ValueError(CONSIGNEE_TWICE)
        return value


class SupplementaryPatch(ConsigneeChoice):
    """修改信息 of a returned order: fields left out keep their value; a required field
    cannot be cleared; ``reminder_backup_email: null`` clears the backup address. Any
    subset of the placing body but the product and modules is taken, so
    ``agreement_accepted`` may come again."""

    invoice_profile_id: int | None = None
    agreement_accepted: bool | None = None
    contract_name: Text | None = None
    service_market_order_no: Code | None = None
    shop_name: Text | None = None
    seller_nick: Text | None = None
    baison_staff: Text | None = None
    reminder_name: Text | None = None
    reminder_mobile: Mobile | None = None
    reminder_email: Email | None = None
    reminder_backup_email: Email | None = None

    @field_validator(*REQUIRED_SUPPLEMENTARY)
    @classmethod
    def _required_stays_filled(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:  # given as null: a clearing, not "unchanged"
            raise ValueError(f"请填写{SUPPLEMENTARY_LABELS[str(info.field_name)]}")
        return value

    @field_validator("agreement_accepted")
    @classmethod
    def _agreement_stays_accepted(cls, value: bool | None) -> bool | None:
        if value is False:
            raise ValueError(AGREEMENT_REFUSED)
        return value


class PlaceOrderInput(SupplementaryInfo, ConsigneeChoice):
    product_code: Text
    module_codes: list[Text] = Field(min_length=1, max_length=50)
    invoice_profile_id: int
    agreement_accepted: bool


class RefundAccountFields(StrictInput):
    """完善退款账号相关信息, but the card number."""

    refund_type: RefundType
    account_name: Text
    bank: Text
    branch: Text
    region: Text


class RefundAccountInput(RefundAccountFields):
    """完善退款账号相关信息 as the buyer types it. The card number is left out only by a
    correction that keeps the card on file. 所属地区 must name a known province and city
    (checked here, where the buyer types it, not in the commands workflows replay)."""

    card_no: BankCard | None = None

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        known = regions.normalized_region(value)
        if known is None:
            raise ValueError(regions.REGION_INVALID)
        return known
