"""店铺订购: the catalog, a product with its modules, the checkout, and the invoice
profiles the buyer saves from the checkout page or the user center's profile page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import responses, schemas
from api.csrf import read_page_form
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Problem
from api.services import orders, profiles
from api.web import forms
from api.web.address_book import saved_addresses
from api.web.kept_forms import kept_form, refused
from api.web.plumbing import (
    SUPPLEMENTARY_FIELDS,
    BuyerPage,
    PageRedirect,
    field_errors,
    local_path,
    redirect,
    render,
)
from db import queries
from domain.catalog import PRODUCT_LINES
from domain.order import Actor
from domain.validation import CONSIGNEE_LABELS

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class RefusedProfile:
    """An invoice-profile form that was refused: which (a profile's id, or "new"), what it
    held, and each field's error."""

    profile: int | str
    form: dict[str, Any]
    errors: dict[str, str]


def _editing(kept: dict[str, Any] | None) -> dict[str, Any]:
    """The template's view of a refused profile form (a ``RefusedProfile`` kept as a dict)."""
    if not isinstance(kept, dict):
        return {"editing_profile": None, "editing_form": {}, "editing_errors": {}}
    return {
        "editing_profile": kept.get("profile"),
        "editing_form": kept.get("form", {}),
        "editing_errors": kept.get("errors", {}),
    }


DEFAULT_LINE = "E3"
# More saved invoice profiles than this and the checkout lists them in a scrolling box.
LONG_PROFILE_LIST = 5
AGREEMENT_MISSING = "请先阅读并同意订购协议"


@router.get("/shop", response_class=HTMLResponse, response_model=None)
async def shop(
    request: Request, me: BuyerPage, session: SessionDep, line: str = DEFAULT_LINE
) -> Response:
    products = await queries.products(
        session, line=line if line in PRODUCT_LINES else DEFAULT_LINE, platform=None
    )
    return render(
        request,
        "shop.html",
        me,
        section="shop",
        line=line,
        lines=PRODUCT_LINES,
        products=[responses.product_out(p) for p in products],
    )


async def _product(session: AsyncSession, code: str) -> schemas.ProductOut | None:
    product = await queries.product(session, code=code)
    return responses.product_out(product) if product else None


@router.get("/shop/{code}", response_class=HTMLResponse, response_model=None)
async def product_page(request: Request, code: str, me: BuyerPage, session: SessionDep) -> Response:
    product = await _product(session, code)
    if product is None:
        return redirect("/shop", err=f"没有商品 {code}")
    chosen = request.query_params.getlist("module") or [product.modules[0].code]
    total = sum(m.price_fen for m in product.modules if m.code in chosen)
    return render(
        request,
        "product.html",
        me,
        section="shop",
        product=product,
        chosen=chosen,
        chosen_total=total,
    )


@router.get("/shop/{code}/agreement", response_class=HTMLResponse, response_model=None)
async def agreement_page(
    request: Request, code: str, me: BuyerPage, session: SessionDep, settings: SettingsDep
) -> Response:
    """The agreement the checkout asks the buyer to accept, readable before accepting it:
    its terms are this product's own (settlement mode, refundable share, service term)."""
    product = await _product(session, code)
    if product is None:
        return redirect("/shop", err=f"没有商品 {code}")
    return render(
        request,
        "agreement.html",
        me,
        section="shop",
        product=product,
        refund_percent=round(product.refund_share * 100),
        service_term=_term_label(*settings.term),
        correction_days=settings.correction_period.days,
    )


def _term_label(years: int, rest: timedelta) -> str:
    """SERVICE_TERM as the agreement states it: 一年 for P1Y; a demo's short term in days."""
    if years and not rest:
        return "一年" if years == 1 else f"{years}年"
    days = years * 365 + rest.days
    return f"{days}天" if days else f"{int(rest.total_seconds() // 60)}分钟"


async def saved_profiles(session: AsyncSession, me: Actor) -> list[schemas.ProfileOut]:
    return [responses.profile_out(p) for p in await queries.profiles(session, owner=me.username)]


async def _checkout(
    request: Request,
    me: Actor,
    session: AsyncSession,
    product: schemas.ProductOut,
    module_codes: list[str],
) -> Response:
    """The checkout, with what a refused (or a profile-saving) post of it left: the order
    form's values and errors, the new profile's, or a saved profile's edit."""
    kept = kept_form(request)
    form: dict[str, Any] = kept.get("form", {})
    found = await queries.profiles_for_checkout(session, owner=me.username)
    saved = [responses.profile_out(p) for p in found]
    address_book = await saved_addresses(session, me)
    # The default address is preselected (listed first); the buyer may type one or none.
    default_choice = str(address_book[0].id) if address_book else forms.NO_CONSIGNEE
    modules = [m for m in product.modules if m.code in module_codes]
    chosen_profile = _posted_profile_id(form) or (saved[0].id if saved else None)
    return render(
        request,
        "checkout.html",
        me,
        section="shop",
        product=product,
        modules=modules,
        total=sum(m.price_fen for m in modules),
        profiles=saved,
        long_list=len(saved) > LONG_PROFILE_LIST,
        chosen_profile=chosen_profile,
        supplementary_fields=SUPPLEMENTARY_FIELDS,
        addresses=address_book,
        address_choice=form.get("address_choice", default_choice),
        typed_consignee=forms.TYPED_CONSIGNEE,
        consignee_labels=CONSIGNEE_LABELS,
        form=form,
        errors=kept.get("errors", {}),
        back=_checkout_link(product.code, [m.code for m in modules]),
        new_profile=kept.get("new_profile"),
        profile_errors=kept.get("profile_errors", {}),
        **_editing(kept.get("editing")),
    )


def _posted_profile_id(form: dict[str, Any]) -> int:
    """The profile a refused checkout had chosen; 0 for none, or for a value posted that is
    no profile's number (kept as typed: the page must still show)."""
    try:
        return int(str(form.get("invoice_profile_id") or 0))
    except ValueError:
        return 0


def _checkout_link(code: str, module_codes: list[str]) -> str:
    return f"/shop/{code}/checkout?" + urlencode([("module", m) for m in module_codes])


# The order form's own fields, kept across a redirect; not the saved profiles' edit fields
# (``profile_<id>_…``), which are part of the same form but would make the cookie grow
# with every profile.
ORDER_FORM_FIELDS = frozenset(
    {*forms.SUPPLEMENTARY_NAMES, "remark", "address_choice", "invoice_profile_id"}
    | {forms.CONSIGNEE_PREFIX + n for n in forms.CONSIGNEE_FIELDS}
    | {"agreement_accepted"}
)


def _back_to_checkout(
    request: Request, code: str, module_codes: list[str], form: dict[str, str], **kept: Any
) -> Response:
    """Post/redirect/get for every checkout post: back to the checkout, which shows what
    was typed in the order's form and ``kept`` (errors, the new profile's, a flash)."""
    typed = {k: v for k, v in form.items() if k in ORDER_FORM_FIELDS}
    return refused(request, _checkout_link(code, module_codes), form=typed, **kept)


@router.get("/shop/{code}/checkout", response_class=HTMLResponse, response_model=None)
async def checkout_page(
    request: Request, code: str, me: BuyerPage, session: SessionDep
) -> Response:
    product = await _product(session, code)
    modules = request.query_params.getlist("module")
    if product is None or not modules:
        return redirect(f"/shop/{code}" if product else "/shop", err="请选择附加服务")
    return await _checkout(request, me, session, product, modules)


async def _checkout_post(
    request: Request, session: AsyncSession, code: str
) -> tuple[schemas.ProductOut, dict[str, str], list[str]]:
    """What a checkout form posted: its product (else back to the catalog), the text
    fields and the chosen modules."""
    product = await _product(session, code)
    if product is None:
        raise PageRedirect(redirect("/shop", err=f"没有商品 {code}"))
    raw = await read_page_form(request)
    return product, forms.text_fields(raw), [str(v) for v in raw.getlist("module_codes")]


@router.post("/shop/{code}/checkout", response_model=None)
async def checkout(
    request: Request,
    code: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    _, form, module_codes = await _checkout_post(request, session, code)
    try:
        state = await orders.place(
            session=session,
            client=client,
            settings=settings,
            actor=me,
            data=forms.place_order(code, form, module_codes),
            idempotency_key=form.get("form_key") or None,
        )
    except ValidationError as error:
        errors = field_errors(error)
        if not form.get("agreement_accepted"):  # said at once, not after the rest is right
            errors["agreement_accepted"] = AGREEMENT_MISSING
        return _back_to_checkout(request, code, module_codes, form, errors=errors)
    except Problem as problem:
        errors = field_errors(problem)
        if "agreement_accepted" in errors:
            errors["agreement_accepted"] = AGREEMENT_MISSING
        said = "" if errors else problem.detail
        return _back_to_checkout(request, code, module_codes, form, errors=errors, err=said)
    return redirect(
        f"/my/orders?expand={state.order_no}",
        ok=f"订购成功，主订单号 {state.order_no}，等待后台审核",
    )


# --- invoice profiles, saved inline from the checkout page or from 发票信息管理 ----------------

PROFILES_PAGE = "/my/profiles"


@router.get(PROFILES_PAGE, response_class=HTMLResponse, response_model=None)
async def profiles_page(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    """The user center's list of invoice profiles ("你有 N 张发票信息"): add, edit, delete;
    a refused form open again with its errors beside its fields."""
    return render(
        request,
        "my_profiles.html",
        me,
        section="my",
        profiles=await saved_profiles(session, me),
        back=PROFILES_PAGE,
        **_editing(kept_form(request).get("editing")),
    )


@router.post("/shop/{code}/checkout/profile", response_model=None)
async def checkout_profile(
    request: Request, code: str, me: BuyerPage, session: SessionDep
) -> Response:
    """添加一个新开票 from the checkout: the profile is saved and chosen, and the checkout
    comes back with everything the buyer had typed; a refused profile shows its errors
    beside its fields, the order's fields untouched."""
    _, form, module_codes = await _checkout_post(request, session, code)
    try:
        profile = await profiles.create(
            session=session, owner=me.username, data=forms.invoice_profile(form)
        )
    except ValidationError as error:
        new_profile = {k: v for k, v in form.items() if k in forms.PROFILE_FIELDS}
        return _back_to_checkout(
            request, code, module_codes, form,
            new_profile=new_profile, profile_errors=field_errors(error),
        )  # fmt: skip
    chosen = form | {"invoice_profile_id": str(profile.id)}
    return _back_to_checkout(
        request, code, module_codes, chosen, ok="发票信息已保存，并已选为本订单的发票信息"
    )


@router.post("/shop/{code}/checkout/profile/{profile_id}", response_model=None)
async def checkout_profile_edit(
    request: Request, code: str, profile_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    """A saved profile edited on the checkout (its fields, ``profile_<id>_…``, are part of
    the order's form): saved, and the checkout comes back with everything typed; a refusal
    shows its errors beside the profile's fields."""
    _, form, module_codes = await _checkout_post(request, session, code)
    prefix = f"profile_{profile_id}_"
    edited = {k.removeprefix(prefix): v for k, v in form.items() if k.startswith(prefix)}
    try:
        await profiles.replace(
            session=session,
            owner=me.username,
            profile_id=profile_id,
            data=forms.invoice_profile(edited),
        )
    except ValidationError as error:
        editing = RefusedProfile(profile_id, edited, field_errors(error))
        return _back_to_checkout(request, code, module_codes, form, editing=asdict(editing))
    except Problem as problem:
        return _back_to_checkout(request, code, module_codes, form, err=problem.detail)
    return _back_to_checkout(request, code, module_codes, form, ok="发票信息已更新")


@router.post("/shop/{code}/checkout/profile/{profile_id}/delete", response_model=None)
async def checkout_profile_delete(
    request: Request, code: str, profile_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    """删除 a saved profile on the checkout: the checkout comes back with everything typed
    (the deleted profile no longer chosen)."""
    _, form, module_codes = await _checkout_post(request, session, code)
    try:
        await profiles.delete(session=session, owner=me.username, profile_id=profile_id)
    except Problem as problem:
        return _back_to_checkout(request, code, module_codes, form, err=problem.detail)
    if form.get("invoice_profile_id") == str(profile_id):
        form = {k: v for k, v in form.items() if k != "invoice_profile_id"}
    return _back_to_checkout(request, code, module_codes, form, ok="发票信息已删除")


def _back(form: dict[str, Any]) -> str:
    return local_path(str(form.get("back") or "/my/orders"), "/my/orders")


def _profile_refused(request: Request, editing: RefusedProfile) -> Response:
    """Back to the page the profile form was on (the checkout, same modules, or 发票信息管理),
    which opens that form with its errors beside its fields and what was typed kept."""
    back = _back(editing.form)
    page = back if urlsplit(back).path.endswith("/checkout") else PROFILES_PAGE
    typed = {k: v for k, v in editing.form.items() if k in forms.PROFILE_FIELDS}
    return refused(request, page, editing=asdict(replace(editing, form=typed)))


@router.post("/my/profiles", response_model=None)
async def create_profile(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    form = await forms.form_of(request)
    try:
        await profiles.create(session=session, owner=me.username, data=forms.invoice_profile(form))
    except ValidationError as error:
        return _profile_refused(request, RefusedProfile("new", form, field_errors(error)))
    return redirect(_back(form), ok="发票信息已保存")


@router.post("/my/profiles/{profile_id}", response_model=None)
async def update_profile(
    request: Request, profile_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    form = await forms.form_of(request)
    try:
        await profiles.replace(
            session=session,
            owner=me.username,
            profile_id=profile_id,
            data=forms.invoice_profile(form),
        )
    except ValidationError as error:
        return _profile_refused(request, RefusedProfile(profile_id, form, field_errors(error)))
    except Problem as problem:
        return redirect(_back(form), err=problem.detail)
    return redirect(_back(form), ok="发票信息已更新")


@router.post("/my/profiles/{profile_id}/delete", response_model=None)
async def delete_profile(
    request: Request, profile_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    form = await forms.form_of(request)
    try:
        await profiles.delete(session=session, owner=me.username, profile_id=profile_id)
    except Problem as problem:
        return redirect(_back(form), err=problem.detail)
    return redirect(_back(form), ok="发票信息已删除")
