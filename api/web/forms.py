"""Submitted forms read into the same models the API's bodies are (``api.schemas``,
``domain.inputs``), so a page and an API call are checked by the same rules.

Each parser raises pydantic's ValidationError (or Problem) for what does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from api import schemas
from api.csrf import read_page_form
from api.errors import Problem
from api.web.plumbing import SUPPLEMENTARY_FIELDS
from domain import regions
from domain.inputs import (
    AddressInput,
    InvoiceProfileInput,
    InvoiceProfilePatch,
    PlaceOrderInput,
    SupplementaryPatch,
)
from domain.validation import FIELD_LABELS

PROFILE_FIELDS = (
    "invoice_type",
    "title",
    "taxpayer_id",
    "recipient_name",
    "recipient_mobile",
    "recipient_address",
)
SUPPLEMENTARY_NAMES = tuple(name for name, _, _ in SUPPLEMENTARY_FIELDS)
CONSIGNEE_FIELDS = ("name", "mobile", "phone", "postcode", "address")
# The checkout's typed consignee fields: ``consignee_name`` … beside the order's own fields.
CONSIGNEE_PREFIX = "consignee_"
# The checkout's choice of 收货人信息: a saved address's id, or one of these.
TYPED_CONSIGNEE = "typed"
NO_CONSIGNEE = ""
REFUND_ACCOUNT_FIELDS = ("refund_type", "account_name", "bank", "branch", "card_no", "region")


async def form_of(request: Request) -> dict[str, Any]:
    return {k: v for k, v in (await read_page_form(request)).multi_items()}


def text_fields(raw: FormData) -> dict[str, str]:
    """The text fields of a form that may also carry files or repeated fields."""
    return {k: v for k, v in raw.items() if isinstance(v, str)}


def clean(form: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named text fields that were filled in (blank means 'not given')."""
    return {n: form[n].strip() for n in names if isinstance(form.get(n), str) and form[n].strip()}


def _text(form: dict[str, Any], name: str) -> str:
    return str(form.get(name, "")).strip()


def yuan_to_fen(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int((Decimal(text.strip()) * 100).to_integral_value())
    except InvalidOperation:
        raise Problem(422, "平台实付金额应为数字（元）") from None


# --- the buyer's ----------------------------------------------------------------------------


def _consignee_choice(form: dict[str, str]) -> dict[str, Any]:
    """``address_id`` for a saved address picked, ``consignee`` for one typed, or nothing."""
    choice = _text(form, "address_choice")
    if choice == TYPED_CONSIGNEE:
        typed = clean(form, *(CONSIGNEE_PREFIX + n for n in CONSIGNEE_FIELDS))
        return {"consignee": {k.removeprefix(CONSIGNEE_PREFIX): v for k, v in typed.items()}}
    if choice:  # the model reads the number: what is none is its field's error, not a 500
        return {"address_id": choice}
    return {}


def place_order(code: str, form: dict[str, str], module_codes: list[str]) -> PlaceOrderInput:
    return PlaceOrderInput.model_validate(
        clean(form, *SUPPLEMENTARY_NAMES, "remark")
        | _consignee_choice(form)
        | {
            "product_code": code,
            "module_codes": module_codes,
            "invoice_profile_id": form.get("invoice_profile_id") or 0,
            "agreement_accepted": form.get("agreement_accepted") == "true",
        }
    )


def address(form: dict[str, Any]) -> AddressInput:
    return AddressInput.model_validate(
        clean(form, *CONSIGNEE_FIELDS) | {"is_default": form.get("is_default") == "true"}
    )


def invoice_profile(form: dict[str, Any]) -> InvoiceProfileInput:
    return InvoiceProfileInput.model_validate(clean(form, *PROFILE_FIELDS))


def emptied(
    form: dict[str, Any], names: tuple[str, ...], labels: Mapping[str, str] = FIELD_LABELS
) -> dict[str, str]:
    """Says 请填写… for each named field the form sent blank."""
    return {
        n: f"请填写{labels.get(n, '该项')}"
        for n in names
        if n in form and isinstance(form[n], str) and not form[n].strip()
    }


def invoice_profile_patch(form: dict[str, Any]) -> InvoiceProfilePatch:
    return InvoiceProfilePatch.model_validate(clean(form, *PROFILE_FIELDS))


def supplementary_patch(form: dict[str, Any]) -> SupplementaryPatch:
    """The 修改信息 form shows every field filled in: one the buyer emptied is a clearing
    (refused for a required field, the backup e-mail removed), not "unchanged"."""
    chosen_profile = form.get("invoice_profile_id")
    emptied = {n: None for n in SUPPLEMENTARY_NAMES if n in form and not _text(form, n)}
    # 收货人信息: the choice made (none chosen clears it); 备注: emptied clears it.
    consignee = (_consignee_choice(form) or {"consignee": None}) if "address_choice" in form else {}
    remark = {"remark": _text(form, "remark") or None} if "remark" in form else {}
    return SupplementaryPatch.model_validate(
        clean(form, *SUPPLEMENTARY_NAMES)
        | emptied
        | consignee
        | remark
        | ({"invoice_profile_id": chosen_profile} if chosen_profile else {})
    )


def refund_decision(form: dict[str, Any]) -> schemas.RefundDecisionIn:
    return schemas.RefundDecisionIn.model_validate({"decision": _text(form, "decision")})


def picked_region(form: dict[str, str]) -> str:
    """所属地区 from the picker: the city picked ("省份 城市"), else what was typed, else the
    province alone (refused unless it is a municipality)."""
    return _text(form, "region_city") or _text(form, "region") or _text(form, "region_province")


def region_pick(form: dict[str, str]) -> tuple[tuple[str, str], str]:
    """The picker's (province, city) selections for a form shown again, and the typed text
    kept only when it names no known region (so the buyer sees what was refused)."""
    given = picked_region(form)
    known = regions.normalized_region(given) if given else None
    if known is None:
        return (_text(form, "region_province"), ""), given
    return (known.split(" ")[0], known), ""


def refund(form: dict[str, str], proof: object) -> schemas.RefundForm:
    region = picked_region(form)
    return schemas.RefundForm.model_validate(
        clean(form, *REFUND_ACCOUNT_FIELDS)
        | ({"region": region} if region else {})
        | {"proof": proof if isinstance(proof, UploadFile) else None}
    )


# --- the back office's and finance's ----------------------------------------------------------


def approve(form: dict[str, Any]) -> schemas.ApproveIn:
    """The page asks for the platform's amount in yuan; the API takes fen."""
    return schemas.ApproveIn.model_validate(
        {"platform_amount_fen": yuan_to_fen(str(form.get("platform_amount_yuan", "")))}
    )


def reason(form: dict[str, Any]) -> schemas.ReasonIn:
    return schemas.ReasonIn.model_validate({"reason": _text(form, "reason")})


def no_note() -> schemas.NoteIn:
    """The pages' settlement and agreement buttons carry no note."""
    return schemas.NoteIn()


def issue_invoice(form: dict[str, Any]) -> schemas.IssueInvoiceIn:
    return schemas.IssueInvoiceIn.model_validate({"invoice_number": _text(form, "invoice_number")})


def ship_invoice(form: dict[str, Any]) -> schemas.ShipInvoiceIn:
    return schemas.ShipInvoiceIn.model_validate(
        {"courier": _text(form, "courier"), "tracking_no": _text(form, "tracking_no")}
    )


def payout(form: dict[str, Any]) -> schemas.PayoutIn:
    return schemas.PayoutIn.model_validate(
        {
            "amount_fen": _text(form, "amount_fen") or "0",
            "bank_reference": _text(form, "bank_reference"),
        }
    )
