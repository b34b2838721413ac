"""The buyer center (用户中心): my orders and their actions, the order edit and refund
forms, my refunds, my invoice applications and the correction of a returned one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import command_builders as build
from api import responses, schemas
from api.csrf import read_page_form
from api.deps import CardCipherDep, SessionDep, SettingsDep, TemporalDep, UploadRateDep
from api.errors import Problem
from api.services import invoices, orders, refunds
from api.web import forms, kept_forms, listings, sending
from api.web.address_book import saved_addresses
from api.web.kept_forms import kept_form, refused
from api.web.lookups import order_or_404, order_or_back
from api.web.plumbing import (
    ACTION_NAMES,
    SUPPLEMENTARY_FIELDS,
    BuyerPage,
    field_errors,
    redirect,
    render,
)
from api.web.shop import saved_profiles
from domain import lifecycle, regions
from domain.commands import Action
from domain.order import Actor, OrderState
from domain.statuses import RefundDecision
from domain.validation import CONSIGNEE_LABELS

router = APIRouter(include_in_schema=False)


def _refusal(error: ValidationError | Problem, errors: dict[str, str]) -> str:
    """A refusal that names no field is shown as a flash above the form."""
    return error.detail if isinstance(error, Problem) and not errors else ""


# --- 我的订单 -------------------------------------------------------------------------------


@router.get("/my/orders", response_class=HTMLResponse, response_model=None)
async def my_orders(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    return await listings.orders_page(request, me, session, "my_orders.html", "my")


@router.get("/my/orders/{order_no}", response_class=HTMLResponse, response_model=None)
async def my_order(request: Request, order_no: str, me: BuyerPage, session: SessionDep) -> Response:
    """订单详情: the buyer's own order (another's is the 404 page)."""
    state = await order_or_404(session, me, order_no)
    return render(
        request,
        "my_order.html",
        me,
        section="my",
        o=responses.order_out(state, me),
        action_labels=ACTION_NAMES,
    )


@router.post("/my/orders/{order_no}/confirm-receipt", response_model=None)
async def confirm_receipt(
    order_no: str, me: BuyerPage, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> Response:
    command = build.confirm_receipt(me)
    return await sending.to_order(
        session, client, settings, order_no, command, "已确认收货，已自动生成开票申请"
    )


@router.post("/my/orders/{order_no}/refund-decision", response_model=None)
async def decide_refund(
    request: Request,
    order_no: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    expanded = f"/my/orders?expand={order_no}"
    try:
        body = forms.refund_decision(await forms.form_of(request))
    except ValidationError:
        return redirect(expanded, err="请选择退款或不退款")
    try:
        await orders.act(
            session=session,
            client=client,
            order_no=order_no,
            command=build.decide_refund(me, body),
            idempotency_key=None,
            accept_within=settings.update_accept_timeout,
        )
    except Problem as problem:
        return redirect(expanded, err=problem.detail)
    if body.decision is RefundDecision.REFUND:
        return redirect(f"/my/orders/{order_no}/refund", ok="已选择退款，请填写退款信息")
    return redirect(expanded, ok="已选择不退款，已自动生成开票")


async def _edit_form(
    request: Request,
    me: Actor,
    session: AsyncSession,
    state: OrderState,
    form: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    address_book = await saved_addresses(session, me)
    return render(
        request,
        "order_edit.html",
        me,
        section="my",
        o=responses.order_out(state, me),
        profiles=await saved_profiles(session, me),
        supplementary_fields=SUPPLEMENTARY_FIELDS,
        addresses=address_book,
        address_choice=form.get("address_choice", _current_choice(state, address_book)),
        typed_consignee=forms.TYPED_CONSIGNEE,
        consignee_labels=CONSIGNEE_LABELS,
        consignee_values=form or _consignee_values(state),
        form=form,
        errors=errors,
    )


def _current_choice(state: OrderState, address_book: list[schemas.AddressOut]) -> str:
    """The order's 收货人信息 as the form's choice: its saved address if still there, else
    typed (prefilled), else none."""
    if state.consignee is None:
        return forms.NO_CONSIGNEE
    if state.consignee.address_id in {a.id for a in address_book}:
        return str(state.consignee.address_id)
    return forms.TYPED_CONSIGNEE


def _consignee_values(state: OrderState) -> dict[str, str]:
    if state.consignee is None:
        return {}
    return {
        forms.CONSIGNEE_PREFIX + name: value or ""
        for name, value in state.consignee.model_dump(exclude={"address_id"}).items()
    }


@router.get("/my/orders/{order_no}/edit", response_class=HTMLResponse, response_model=None)
async def edit_page(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep
) -> Response:
    state = await order_or_back(session, me, order_no, back="/my/orders")
    # Said before anything is typed, not only after a submit that could never succeed.
    refused = lifecycle.refusal(state, Action.EDIT, me)
    if refused is not None:
        return redirect(f"/my/orders?expand={order_no}", err=refused.message)
    kept = kept_form(request)  # a refused submit: what was typed, errors beside the fields
    return await _edit_form(
        request, me, session, state, kept.get("form", {}), kept.get("errors", {})
    )


@router.post("/my/orders/{order_no}/edit", response_model=None)
async def edit_order(
    request: Request,
    order_no: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    form = await forms.form_of(request)
    try:
        await orders.edit(
            session=session,
            client=client,
            actor=me,
            order_no=order_no,
            patch=forms.supplementary_patch(form),
            idempotency_key=None,
            accept_within=settings.update_accept_timeout,
        )
    except (ValidationError, Problem) as error:
        errors = field_errors(error)
        page = f"/my/orders/{order_no}/edit"
        return refused(request, page, form=form, errors=errors, err=_refusal(error, errors))
    return redirect(f"/my/orders?expand={order_no}", ok="已修改信息并重新提交审核")


# --- 退款 ------------------------------------------------------------------------------------


@router.get("/my/orders/{order_no}/refund", response_class=HTMLResponse, response_model=None)
async def refund_page(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep, cipher: CardCipherDep
) -> Response:
    state = await order_or_back(session, me, order_no, back="/my/orders")
    o = responses.order_out(state, me)
    if not {"apply_refund", "edit_refund"} & set(o.allowed_actions):
        return redirect(f"/my/orders?expand={order_no}", err="该订单当前不能填写退款信息")
    kept = kept_form(request)
    if kept:  # a refused submit: what was typed (the card number unsealed), errors beside
        form = dict(kept.get("form", {}))
        form["card_no"] = kept_forms.opened_card(cipher, me.username, form)
        return _refund_form(request, me, o, form, kept.get("errors", {}))
    form = {}
    if state.refund is not None:
        form = {
            k: getattr(state.refund, k) for k in ("account_name", "bank", "branch", "region")
        } | {
            "refund_type": state.refund.refund_type.value
            if state.refund.refund_type
            else "individual"
        }
    return _refund_form(request, me, o, form, {})


def _refund_form(
    request: Request,
    me: Actor,
    o: schemas.OrderOut,
    form: dict[str, str],
    errors: dict[str, str],
) -> Response:
    """退款申请 (or its correction), with the 所属地区 picker set from the form."""
    pick, typed = forms.region_pick(form)
    return render(
        request,
        "refund_form.html",
        me,
        section="my",
        o=o,
        form=form,
        errors=errors,
        provinces=regions.provinces(),
        region_pick=pick,
        region_typed=typed,
    )


@router.post("/my/orders/{order_no}/refund", response_model=None)
async def submit_refund(
    request: Request,
    order_no: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    cipher: CardCipherDep,
    uploads: UploadRateDep,
) -> Response:
    raw = await read_page_form(request)
    form = forms.text_fields(raw)
    state = await orders.visible(session=session, actor=me, order_no=order_no)
    try:
        await refunds.submit(
            session=session,
            client=client,
            settings=settings,
            cipher=cipher,
            uploads=uploads,
            actor=me,
            order_no=order_no,
            form=forms.refund(form, raw.get("proof")),
            correction=state.refund is not None,
            idempotency_key=None,
        )
    except (ValidationError, Problem) as error:
        errors = field_errors(error)
        if state.refund is None and not form.get("card_no", "").strip():
            # A first application needs the card; said with the rest, not after it.
            errors.setdefault("card_no", "请填写银行卡号")
        # The card number rides sealed, never in clear, and the proof file not at all.
        typed = {k: v for k, v in form.items() if k != "card_no"}
        typed |= kept_forms.sealed_card(cipher, me.username, form.get("card_no", "").strip())
        page = f"/my/orders/{order_no}/refund"
        return refused(request, page, form=typed, errors=errors, err=_refusal(error, errors))
    # Settlement recorded already (a correction, or a late application): review comes next.
    next_step = "等待后台审核" if state.settled else "待平台与百胜结算后审核"
    return redirect("/my/refunds", ok=f"退款申请已提交，{next_step}")


@router.get("/my/refunds", response_class=HTMLResponse, response_model=None)
async def my_refunds(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    return await listings.refunds_page(request, me, session, "my", "/my/refunds")


@router.get("/my/refunds/{refund_id}", response_class=HTMLResponse, response_model=None)
async def my_refund(
    request: Request, refund_id: str, me: BuyerPage, session: SessionDep
) -> Response:
    return await listings.refund_detail(request, me, session, refund_id, "my")


# --- 发票 ------------------------------------------------------------------------------------


@router.get("/my/invoices", response_class=HTMLResponse, response_model=None)
async def my_invoices(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    return await listings.invoices_page(request, me, session, "my", "/my/invoices")


@router.get("/my/invoices/{invoice_app_no}", response_class=HTMLResponse, response_model=None)
async def my_invoice(
    request: Request, invoice_app_no: str, me: BuyerPage, session: SessionDep
) -> Response:
    return await listings.invoice_detail(request, me, session, invoice_app_no, "my")


@router.get("/my/invoices/{invoice_app_no}/edit", response_class=HTMLResponse, response_model=None)
async def invoice_edit_page(
    request: Request, invoice_app_no: str, me: BuyerPage, session: SessionDep
) -> Response:
    try:
        state, invoice = await invoices.visible(
            session=session, actor=me, invoice_app_no=invoice_app_no
        )
    except Problem as problem:
        return redirect("/my/invoices", err=problem.detail)
    kept = kept_form(request)  # a refused submit: what was typed, errors beside the fields
    return render(
        request,
        "invoice_edit.html",
        me,
        section="my",
        i=responses.invoice_out(state, invoice, me),
        form=kept.get("form"),
        errors=kept.get("errors", {}),
    )


@router.post("/my/invoices/{invoice_app_no}/edit", response_model=None)
async def edit_invoice(
    request: Request,
    invoice_app_no: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    form = await forms.form_of(request)
    # The form shows every field filled in: one the buyer emptied is refused, not "unchanged".
    emptied = forms.emptied(form, forms.PROFILE_FIELDS)
    try:
        patch = forms.invoice_profile_patch(form)
        if emptied:
            raise Problem(422, "请填写完整的发票信息")
        command = build.edit_invoice(me, invoice_app_no, patch)
        state, _ = await invoices.act(
            session=session,
            client=client,
            command=command,
            idempotency_key=None,
            accept_within=settings.update_accept_timeout,
        )
    except (ValidationError, Problem) as error:
        errors = emptied | field_errors(error)
        page = f"/my/invoices/{invoice_app_no}/edit"
        return refused(request, page, form=form, errors=errors, err=_refusal(error, errors))
    return redirect(f"/my/invoices?order_no={state.order_no}", ok="发票信息已修改，已重新申请开票")
