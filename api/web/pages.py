"""The pages people use every day, over the same services and rules as the API.

Every action form posts here, calls the service the API route would call, and redirects
back with the outcome (post/redirect/get); refusals show the workflow's own sentence.
"""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.auth import TOKEN_COOKIE, authenticate, issue_token, read_token
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Problem
from api.responses import invoice_out, order_out, refund_out
from api.responses import profile_out as saved_profile_out
from api.routes.common import OrderParams, RefundParams
from api.schemas import RefundForm
from api.services import invoices, orders, payout_batch, profiles, refunds
from api.web.rendering import (
    ACTION_NAMES,
    INVOICE_STATUSES,
    PLATFORMS,
    REFUND_STATUSES,
    SUPPLEMENTARY_FIELDS,
    TABS,
    field_errors,
    query_link,
    redirect,
    render,
)
from db import queries
from domain.catalog import PRODUCT_LINES
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    ConfirmReceipt,
    DecideRefund,
    EditInvoice,
    EditRefund,
    IssueInvoice,
    Payout,
    RecordSettlement,
    ReturnInvoice,
    ReturnOrder,
    ReturnRefund,
    ShipInvoice,
    VoidOrder,
)
from domain.inputs import (
    InvoiceProfileInput,
    InvoiceProfilePatch,
    PlaceOrderInput,
    SupplementaryPatch,
)
from domain.order import Actor
from domain.statuses import InvoiceStatus, RefundDecision, RefundStatus, Role

router = APIRouter(include_in_schema=False)

BUYER = (Role.BUYER,)
REVIEWER = (Role.REVIEWER, Role.ADMIN)
FINANCE = (Role.FINANCE, Role.ADMIN)
HOME = {
    Role.BUYER: "/my/orders",
    Role.REVIEWER: "/admin/orders",
    Role.FINANCE: "/finance",
    Role.ADMIN: "/admin/orders",
}


def page_user(request: Request, settings: SettingsDep) -> Actor | None:
    token = request.cookies.get(TOKEN_COOKIE)
    return read_token(settings, token) if token else None


PageUser = Annotated[Actor | None, Depends(page_user)]


class PageRedirect(Exception):  # noqa: N818 - control flow, not an error
    """Raised by the page dependencies: answered with a redirect instead of problem+json."""

    def __init__(self, response: RedirectResponse) -> None:
        self.response = response


def page_role(*roles: Role) -> Any:
    """A page's dependency: the signed-in actor of one of ``roles``, else a redirect."""

    def signed_in(request: Request, me: PageUser) -> Actor:
        if me is None:
            raise PageRedirect(redirect(f"/login?next={request.url.path}"))
        if me.role not in roles:
            raise PageRedirect(redirect(HOME[me.role], err="当前账号无权访问该页面"))
        return me

    return signed_in


BuyerPage = Annotated[Actor, Depends(page_role(*BUYER))]
ReviewerPage = Annotated[Actor, Depends(page_role(*REVIEWER))]
FinancePage = Annotated[Actor, Depends(page_role(*FINANCE))]
StaffPage = Annotated[Actor, Depends(page_role(*REVIEWER, *FINANCE))]


async def form_of(request: Request) -> dict[str, Any]:
    return {k: v for k, v in (await request.form()).multi_items()}


def clean(form: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named text fields that were filled in (blank means 'not given')."""
    return {n: form[n].strip() for n in names if isinstance(form.get(n), str) and form[n].strip()}


# --- sign-in ------------------------------------------------------------------------------


@router.get("/", response_class=RedirectResponse)
async def home(me: PageUser) -> RedirectResponse:
    return redirect(HOME[me.role] if me else "/login")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, me: PageUser, next: str = "") -> HTMLResponse:
    return render(request, "login.html", me, next=next)


@router.post("/login", response_model=None)
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await form_of(request)
    username = str(form.get("username", "")).strip()
    actor = await authenticate(
        await queries.user(session, username=username), str(form.get("password", ""))
    )
    if actor is None:
        return render(
            request,
            "login.html",
            None,
            401,
            username=username,
            extra_flashes=[("error", "账号或密码错误")],
        )
    target = str(form.get("next") or "")
    response = redirect(
        target if target.startswith("/") and not target.startswith("//") else HOME[actor.role]
    )
    response.set_cookie(
        TOKEN_COOKIE,
        issue_token(settings, actor),
        httponly=True,
        samesite="lax",
        max_age=settings.jwt_ttl_minutes * 60,
        secure=settings.environment == "production",
    )
    return response


@router.post("/logout", response_class=RedirectResponse)
async def logout() -> RedirectResponse:
    response = redirect("/login", ok="已退出")
    response.delete_cookie(TOKEN_COOKIE)
    return response


# --- 店铺订购: catalog, product, checkout ---------------------------------------------------


@router.get("/shop", response_class=HTMLResponse, response_model=None)
async def shop(request: Request, me: BuyerPage, session: SessionDep, line: str = "E3") -> Response:
    products = await queries.products(
        session, line=line if line in PRODUCT_LINES else "E3", platform=None
    )
    from api.responses import product_out

    return render(
        request,
        "shop.html",
        me,
        section="shop",
        line=line,
        lines=PRODUCT_LINES,
        products=[product_out(p) for p in products],
    )


async def _product(session: SessionDep, code: str) -> Any:
    from api.responses import product_out

    product = await queries.product(session, code=code)
    return product_out(product) if product else None


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


async def _checkout(
    request: Request,
    me: Actor,
    session: SessionDep,
    product: Any,
    module_codes: list[str],
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    saved = [saved_profile_out(p) for p in await queries.profiles(session, owner=me.username)]
    modules = [m for m in product.modules if m.code in module_codes]
    chosen_profile = int((form or {}).get("invoice_profile_id") or 0) or (
        saved[-1].id if saved else None
    )
    back = f"/shop/{product.code}/checkout?" + "&".join(f"module={m.code}" for m in modules)
    return render(
        request,
        "checkout.html",
        me,
        status_code,
        section="shop",
        product=product,
        modules=modules,
        total=sum(m.price_fen for m in modules),
        profiles=saved,
        chosen_profile=chosen_profile,
        supplementary_fields=SUPPLEMENTARY_FIELDS,
        form=form or {},
        errors=errors or {},
        back=back,
        new_profile=None,
        profile_errors={},
    )


@router.get("/shop/{code}/checkout", response_class=HTMLResponse, response_model=None)
async def checkout_page(
    request: Request, code: str, me: BuyerPage, session: SessionDep
) -> Response:
    product = await _product(session, code)
    modules = request.query_params.getlist("module")
    if product is None or not modules:
        return redirect(f"/shop/{code}" if product else "/shop", err="请选择附加服务")
    return await _checkout(request, me, session, product, modules)


@router.post("/shop/{code}/checkout", response_model=None)
async def checkout(
    request: Request,
    code: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    product = await _product(session, code)
    if product is None:
        return redirect("/shop", err=f"没有商品 {code}")
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    module_codes = [str(v) for v in raw.getlist("module_codes")]
    try:
        data = PlaceOrderInput.model_validate(
            clean(form, *(f for f, _, _ in SUPPLEMENTARY_FIELDS))
            | {
                "product_code": code,
                "module_codes": module_codes,
                "invoice_profile_id": form.get("invoice_profile_id") or 0,
                "agreement_accepted": form.get("agreement_accepted") == "true",
            }
        )
        state = await orders.place(
            session=session,
            client=client,
            settings=settings,
            actor=me,
            data=data,
            idempotency_key=form.get("form_key") or None,
        )
    except ValidationError as error:
        return await _checkout(
            request, me, session, product, module_codes, form, field_errors(error), 422
        )
    except Problem as problem:
        errors = field_errors(problem) or {"form": problem.detail}
        if "agreement_accepted" in errors:
            errors["agreement_accepted"] = "请先阅读并同意订购协议"
        page = await _checkout(
            request, me, session, product, module_codes, form, errors, problem.status
        )
        return page
    return redirect(
        f"/my/orders?expand={state.order_no}",
        ok=f"订购成功，主订单号 {state.order_no}，等待后台审核",
    )


# --- invoice profiles (inline on the checkout page) ------------------------------------------


def _back(form: dict[str, Any]) -> str:
    back = str(form.get("back") or "/my/orders")
    return back if back.startswith("/") and not back.startswith("//") else "/my/orders"


def _profile_input(form: dict[str, Any]) -> InvoiceProfileInput:
    return InvoiceProfileInput.model_validate(
        clean(
            form,
            "invoice_type",
            "title",
            "taxpayer_id",
            "recipient_name",
            "recipient_mobile",
            "recipient_address",
        )
    )


@router.post("/my/profiles", response_model=None)
async def create_profile(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    form = await form_of(request)
    try:
        await profiles.create(session=session, owner=me.username, data=_profile_input(form))
    except ValidationError as error:
        errors = field_errors(error)
        return redirect(
            _back(form), err="发票信息有误：" + "；".join(f"{k} {v}" for k, v in errors.items())
        )
    return redirect(_back(form), ok="发票信息已保存")


@router.post("/my/profiles/{profile_id}", response_model=None)
async def update_profile(
    request: Request, profile_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    form = await form_of(request)
    try:
        await profiles.replace(
            session=session, owner=me.username, profile_id=profile_id, data=_profile_input(form)
        )
    except ValidationError as error:
        return redirect(
            _back(form),
            err="发票信息有误：" + "；".join(f"{k} {v}" for k, v in field_errors(error).items()),
        )
    except Problem as problem:
        return redirect(_back(form), err=problem.detail)
    return redirect(_back(form), ok="发票信息已更新")


@router.post("/my/profiles/{profile_id}/delete", response_model=None)
async def delete_profile(
    request: Request, profile_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    form = await form_of(request)
    try:
        await profiles.delete(session=session, owner=me.username, profile_id=profile_id)
    except Problem as problem:
        return redirect(_back(form), err=problem.detail)
    return redirect(_back(form), ok="发票信息已删除")


# --- 我的订单 -------------------------------------------------------------------------------


def _params(request: Request, model: type[Any]) -> Any:
    """The list's query, parsed by the same model the API route uses (blank fields unset)."""
    given = {
        k: v for k, v in request.query_params.items() if v and k not in ("ok", "err", "expand")
    }
    return model.model_validate(given)


async def _orders_page(
    request: Request, me: Actor, session: SessionDep, template: str, section: str
) -> Response:
    q = request.query_params
    try:
        params = _params(request, OrderParams)
    except ValidationError:
        return redirect(request.url.path, err="查询条件有误")
    tab, number = params.tab, params.page
    found = await orders.list_page(
        session=session, actor=me, filters=params.filters(), tab=tab, page=params.as_page()
    )
    page = {
        "items": [order_out(s, me) for s in found.items],
        "total": found.total,
        "page": number,
        "page_size": params.page_size,
        "tab_counts": found.tab_counts,
    }
    expanded = q.get("expand")
    return render(
        request,
        template,
        me,
        section=section,
        page=page,
        tab=tab.value,
        tabs=TABS,
        q=q,
        platforms=PLATFORMS,
        invoice_statuses=INVOICE_STATUSES,
        expanded=expanded,
        action_labels=ACTION_NAMES,
        tab_link=lambda t: query_link(request, tab=t, page=None, expand=None),
        expand_link=lambda no: query_link(request, expand=None if no == expanded else no)[1:],
        page_link=lambda n: query_link(request, page=n),
    )


@router.get("/my/orders", response_class=HTMLResponse, response_model=None)
async def my_orders(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    return await _orders_page(request, me, session, "my_orders.html", "my")


async def _act_on_order(
    me: Actor,
    session: SessionDep,
    client: TemporalDep,
    order_no: str,
    command: Any,
    ok: str,
    back: str | None = None,
) -> RedirectResponse:
    target = back or f"/my/orders?expand={order_no}#row-{order_no}"
    try:
        await orders.act(
            session=session, client=client, order_no=order_no, command=command, idempotency_key=None
        )
    except Problem as problem:
        return redirect(target, err=problem.detail)
    return redirect(target, ok=ok)


@router.post("/my/orders/{order_no}/confirm-receipt", response_model=None)
async def confirm_receipt(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep, client: TemporalDep
) -> Response:
    return await _act_on_order(
        me, session, client, order_no, ConfirmReceipt(actor=me), "已确认收货，已自动生成开票申请"
    )


@router.post("/my/orders/{order_no}/refund-decision", response_model=None)
async def decide_refund(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep, client: TemporalDep
) -> Response:
    form = await form_of(request)
    try:
        decision = RefundDecision(str(form.get("decision", "")))
    except ValueError:
        return redirect(f"/my/orders?expand={order_no}", err="请选择退款或不退款")
    try:
        await orders.act(
            session=session,
            client=client,
            order_no=order_no,
            command=DecideRefund(actor=me, decision=decision),
            idempotency_key=None,
        )
    except Problem as problem:
        return redirect(f"/my/orders?expand={order_no}", err=problem.detail)
    if decision is RefundDecision.REFUND:
        return redirect(f"/my/orders/{order_no}/refund", ok="已选择退款，请填写退款信息")
    return redirect(f"/my/orders?expand={order_no}", ok="已选择不退款，已自动生成开票")


@router.get("/my/orders/{order_no}/edit", response_class=HTMLResponse, response_model=None)
async def edit_page(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep
) -> Response:
    try:
        state = await orders.visible(session=session, actor=me, order_no=order_no)
    except Problem as problem:
        return redirect("/my/orders", err=problem.detail)
    saved = [saved_profile_out(p) for p in await queries.profiles(session, owner=me.username)]
    return render(
        request,
        "order_edit.html",
        me,
        section="my",
        o=order_out(state, me),
        profiles=saved,
        supplementary_fields=SUPPLEMENTARY_FIELDS,
        form={},
        errors={},
    )


@router.post("/my/orders/{order_no}/edit", response_model=None)
async def edit_order(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep, client: TemporalDep
) -> Response:
    form = await form_of(request)
    try:
        patch = SupplementaryPatch.model_validate(
            clean(form, *(f for f, _, _ in SUPPLEMENTARY_FIELDS))
            | (
                {"invoice_profile_id": int(form["invoice_profile_id"])}
                if form.get("invoice_profile_id")
                else {}
            )
        )
        await orders.edit(
            session=session,
            client=client,
            actor=me,
            order_no=order_no,
            patch=patch,
            idempotency_key=None,
        )
    except (ValidationError, Problem) as error:
        state = await orders.visible(session=session, actor=me, order_no=order_no)
        saved = [saved_profile_out(p) for p in await queries.profiles(session, owner=me.username)]
        errors = field_errors(error)
        flashes = [("error", error.detail)] if isinstance(error, Problem) and not errors else []
        return render(
            request,
            "order_edit.html",
            me,
            422,
            section="my",
            o=order_out(state, me),
            profiles=saved,
            supplementary_fields=SUPPLEMENTARY_FIELDS,
            form=form,
            errors=errors,
            extra_flashes=flashes,
        )
    return redirect(f"/my/orders?expand={order_no}", ok="已修改信息并重新提交审核")


# --- 退款 ------------------------------------------------------------------------------------


@router.get("/my/orders/{order_no}/refund", response_class=HTMLResponse, response_model=None)
async def refund_page(
    request: Request, order_no: str, me: BuyerPage, session: SessionDep
) -> Response:
    try:
        state = await orders.visible(session=session, actor=me, order_no=order_no)
    except Problem as problem:
        return redirect("/my/orders", err=problem.detail)
    o = order_out(state, me)
    if not {"apply_refund", "edit_refund"} & set(o.allowed_actions):
        return redirect(f"/my/orders?expand={order_no}", err="该订单当前不能填写退款信息")
    form = {}
    if state.refund is not None:
        form = {
            k: getattr(state.refund, k) for k in ("account_name", "bank", "branch", "region")
        } | {
            "refund_type": state.refund.refund_type.value
            if state.refund.refund_type
            else "individual"
        }
    return render(request, "refund_form.html", me, section="my", o=o, form=form, errors={})


@router.post("/my/orders/{order_no}/refund", response_model=None)
async def submit_refund(
    request: Request,
    order_no: str,
    me: BuyerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    proof = raw.get("proof")
    state = await orders.visible(session=session, actor=me, order_no=order_no)
    command_type: type[ApplyRefund] = EditRefund if state.refund is not None else ApplyRefund
    try:
        refund_form = RefundForm.model_validate(
            clean(form, "refund_type", "account_name", "bank", "branch", "card_no", "region")
            | {"proof": proof if isinstance(proof, UploadFile) else None}
        )
        await refunds.submit(
            session=session,
            client=client,
            settings=settings,
            actor=me,
            order_no=order_no,
            form=refund_form,
            command_type=command_type,
            idempotency_key=None,
        )
    except (ValidationError, Problem) as error:
        errors = field_errors(error)
        flashes = [("error", error.detail)] if isinstance(error, Problem) and not errors else []
        status = error.status if isinstance(error, Problem) else 422
        return render(
            request,
            "refund_form.html",
            me,
            status,
            section="my",
            o=order_out(state, me),
            form=form,
            errors=errors,
            extra_flashes=flashes,
        )
    return redirect("/my/refunds", ok="退款申请已提交，待平台与百胜结算后审核")


async def _refunds_page(
    request: Request, me: Actor, session: SessionDep, section: str, detail_prefix: str
) -> Response:
    try:
        params = _params(request, RefundParams)
    except ValidationError:
        return redirect(request.url.path, err="查询条件有误")
    found = await refunds.list_page(
        session=session, actor=me, filters=params.filters(), page=params.as_page()
    )
    items = [r for r in (refund_out(s, me) for s in found.items) if r is not None]
    page = {
        "items": items,
        "total": found.total,
        "page": params.page,
        "page_size": params.page_size,
    }
    return render(
        request,
        "my_refunds.html",
        me,
        section=section,
        page=page,
        q=request.query_params,
        platforms=PLATFORMS,
        refund_statuses=REFUND_STATUSES,
        detail_prefix=detail_prefix,
        page_link=lambda n: query_link(request, page=n),
    )


@router.get("/my/refunds", response_class=HTMLResponse, response_model=None)
async def my_refunds(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    return await _refunds_page(request, me, session, "my", "/my/refunds")


async def _refund_detail(
    request: Request, me: Actor, session: SessionDep, refund_id: str, section: str
) -> Response:
    try:
        state = await refunds.visible(session=session, actor=me, refund_id=refund_id)
    except Problem as problem:
        return redirect(HOME[me.role], err=problem.detail)
    return render(
        request,
        "refund_detail.html",
        me,
        section=section,
        o=order_out(state, me),
        r=refund_out(state, me),
        staff_actions=me.role is not Role.BUYER,
    )


@router.get("/my/refunds/{refund_id}", response_class=HTMLResponse, response_model=None)
async def my_refund(
    request: Request, refund_id: str, me: BuyerPage, session: SessionDep
) -> Response:
    return await _refund_detail(request, me, session, refund_id, "my")


# --- 发票 ------------------------------------------------------------------------------------


async def _invoices_page(
    request: Request,
    me: Actor,
    session: SessionDep,
    section: str,
    detail_prefix: str,
    default_status: str | None = None,
) -> Response:
    q = request.query_params
    number = int(q.get("page", "1")) if q.get("page", "1").isdigit() else 1
    status_text = q.get("status", default_status or "")
    status = InvoiceStatus(status_text) if status_text in {s.value for s in InvoiceStatus} else None
    found = await invoices.list_page(
        session=session,
        actor=me,
        order_no=q.get("order_no") or None,
        status=status,
        page=queries.Page(max(1, number), 20),
    )
    page = {
        "items": [invoice_out(s, i, me) for s, i in found.items],
        "total": found.total,
        "page": number,
        "page_size": 20,
    }
    return render(
        request,
        "my_invoices.html",
        me,
        section=section,
        page=page,
        q=q,
        detail_prefix=detail_prefix,
        page_link=lambda n: query_link(request, page=n),
    )


@router.get("/my/invoices", response_class=HTMLResponse, response_model=None)
async def my_invoices(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    return await _invoices_page(request, me, session, "my", "/my/invoices")


@router.get("/my/invoices/{invoice_app_no}", response_class=RedirectResponse)
async def my_invoice(invoice_app_no: str) -> RedirectResponse:
    return redirect(f"/my/invoices?invoice={invoice_app_no}")


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
    return render(
        request,
        "invoice_edit.html",
        me,
        section="my",
        i=invoice_out(state, invoice, me),
        form=None,
        errors={},
    )


@router.post("/my/invoices/{invoice_app_no}/edit", response_model=None)
async def edit_invoice(
    request: Request, invoice_app_no: str, me: BuyerPage, session: SessionDep, client: TemporalDep
) -> Response:
    form = await form_of(request)
    try:
        patch = InvoiceProfilePatch.model_validate(
            clean(
                form,
                "invoice_type",
                "title",
                "taxpayer_id",
                "recipient_name",
                "recipient_mobile",
                "recipient_address",
            )
        )
        state, _ = await invoices.act(
            session=session,
            client=client,
            command=EditInvoice(actor=me, invoice_app_no=invoice_app_no, patch=patch),
            idempotency_key=None,
        )
    except (ValidationError, Problem) as error:
        state, invoice = await invoices.visible(
            session=session, actor=me, invoice_app_no=invoice_app_no
        )
        flashes = [("error", error.detail)] if isinstance(error, Problem) else []
        return render(
            request,
            "invoice_edit.html",
            me,
            422,
            section="my",
            i=invoice_out(state, invoice, me),
            form=form,
            errors=field_errors(error),
            extra_flashes=flashes,
        )
    return redirect(f"/my/invoices?order_no={state.order_no}", ok="发票信息已修改，已重新申请开票")


# --- bmp后台 ---------------------------------------------------------------------------------


@router.get("/admin/orders", response_class=HTMLResponse, response_model=None)
async def admin_orders(request: Request, me: ReviewerPage, session: SessionDep) -> Response:
    return await _orders_page(request, me, session, "admin_orders.html", "admin")


@router.get("/admin/orders/{order_no}", response_class=HTMLResponse, response_model=None)
async def admin_order(
    request: Request, order_no: str, me: ReviewerPage, session: SessionDep
) -> Response:
    try:
        state = await orders.visible(session=session, actor=me, order_no=order_no)
    except Problem as problem:
        return redirect("/admin/orders", err=problem.detail)
    return render(
        request,
        "admin_order.html",
        me,
        section="admin",
        o=order_out(state, me),
        action_labels=ACTION_NAMES,
    )


def _yuan_to_fen(text: str) -> int | None:
    from decimal import Decimal, InvalidOperation

    if not text.strip():
        return None
    try:
        return int((Decimal(text.strip()) * 100).to_integral_value())
    except InvalidOperation:
        raise Problem(422, "平台实付金额应为数字（元）") from None


@router.post("/admin/orders/{order_no}/{action}", response_model=None)
async def admin_order_action(
    request: Request,
    order_no: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
) -> Response:
    form = await form_of(request)
    back = f"/admin/orders/{order_no}"
    try:
        reason = str(form.get("reason", "")).strip()
        commands = {
            "approve": lambda: Approve(
                actor=me,
                platform_amount_fen=_yuan_to_fen(str(form.get("platform_amount_yuan", ""))),
            ),
            "return": lambda: ReturnOrder(actor=me, reason=reason),
            "void": lambda: VoidOrder(actor=me, reason=reason),
            "settlement": lambda: RecordSettlement(actor=me),
        }
        if action not in commands:
            return redirect(back, err="未知操作")
        command = commands[action]()
    except (ValidationError, Problem) as error:
        return redirect(back, err=error.detail if isinstance(error, Problem) else "请填写原因")
    labels = {
        "approve": "已审核通过",
        "return": "已打回，已邮件通知买家",
        "void": "已作废",
        "settlement": "已记录平台结算",
    }
    return await _act_on_order(me, session, client, order_no, command, labels[action], back=back)


@router.get("/admin/refunds", response_class=HTMLResponse, response_model=None)
async def admin_refunds(request: Request, me: StaffPage, session: SessionDep) -> Response:
    return await _refunds_page(request, me, session, "admin-refunds", "/admin/refunds")


@router.get("/admin/refunds/{refund_id}", response_class=HTMLResponse, response_model=None)
async def admin_refund(
    request: Request, refund_id: str, me: StaffPage, session: SessionDep
) -> Response:
    return await _refund_detail(request, me, session, refund_id, "admin-refunds")


async def _act_on_refund(
    me: Actor,
    session: SessionDep,
    client: TemporalDep,
    refund_id: str,
    command: Any,
    ok: str,
    back: str,
) -> RedirectResponse:
    try:
        await refunds.act(
            session=session,
            client=client,
            refund_id=refund_id,
            command=command,
            idempotency_key=None,
        )
    except Problem as problem:
        return redirect(back, err=problem.detail)
    return redirect(back, ok=ok)


@router.post("/admin/refunds/{refund_id}/{action}", response_model=None)
async def admin_refund_action(
    request: Request,
    refund_id: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
) -> Response:
    form = await form_of(request)
    back = f"/admin/refunds/{refund_id}"
    try:
        if action == "agree":
            return await _act_on_refund(
                me,
                session,
                client,
                refund_id,
                AgreeRefund(actor=me),
                "已同意退款，等待财务打款",
                back,
            )
        if action == "return":
            command = ReturnRefund(actor=me, reason=str(form.get("reason", "")).strip())
            return await _act_on_refund(
                me, session, client, refund_id, command, "已退回买家修改", back
            )
    except ValidationError:
        return redirect(back, err="请填写退款修改原因")
    return redirect(back, err="未知操作")


@router.get("/admin/invoices", response_class=HTMLResponse, response_model=None)
async def admin_invoices(request: Request, me: ReviewerPage, session: SessionDep) -> Response:
    return await _invoices_page(
        request, me, session, "admin-invoices", "/admin/invoices", default_status="applied"
    )


@router.post("/admin/invoices/{invoice_app_no}/{action}", response_model=None)
async def admin_invoice_action(
    request: Request,
    invoice_app_no: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
) -> Response:
    form = await form_of(request)
    back = str(request.headers.get("referer") or "/admin/invoices")
    back = (
        "/" + back.split("/", 3)[3]
        if back.startswith("http") and back.count("/") >= 3
        else "/admin/invoices"
    )
    try:
        builders = {
            "issue": lambda: IssueInvoice(
                actor=me,
                invoice_app_no=invoice_app_no,
                invoice_number=str(form.get("invoice_number", "")).strip(),
            ),
            "ship": lambda: ShipInvoice(
                actor=me,
                invoice_app_no=invoice_app_no,
                courier=str(form.get("courier", "")).strip(),
                tracking_no=str(form.get("tracking_no", "")).strip(),
            ),
            "return": lambda: ReturnInvoice(
                actor=me, invoice_app_no=invoice_app_no, reason=str(form.get("reason", "")).strip()
            ),
        }
        if action not in builders:
            return redirect(back, err="未知操作")
        command = builders[action]()
        await invoices.act(session=session, client=client, command=command, idempotency_key=None)
    except ValidationError:
        return redirect(back, err="请填写完整信息")
    except Problem as problem:
        return redirect(back, err=problem.detail)
    labels = {
        "issue": "已开票",
        "ship": "已寄送，已邮件通知买家",
        "return": "已打回，已邮件通知买家",
    }
    return redirect(back, ok=f"{invoice_app_no} {labels[action]}")


# --- 财务 ------------------------------------------------------------------------------------


@router.get("/finance", response_class=HTMLResponse, response_model=None)
async def finance(request: Request, me: FinancePage, session: SessionDep) -> Response:
    return await _finance_page(request, me, session)


@router.post("/finance/batch", response_model=None)
async def finance_batch(
    request: Request, me: FinancePage, session: SessionDep, client: TemporalDep
) -> Response:
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        return redirect("/finance", err="请选择银行回单 CSV 文件")
    try:
        report = await payout_batch.confirm_batch(
            session=session, client=client, actor=me, data=await upload.read(2 * 1024 * 1024)
        )
    except Problem as problem:
        return redirect("/finance", err=problem.detail)
    return await _finance_page(request, me, session, report)


async def _finance_page(
    request: Request, me: Actor, session: SessionDep, report: Any = None
) -> Response:
    number = (
        int(request.query_params.get("page", "1"))
        if request.query_params.get("page", "1").isdigit()
        else 1
    )
    found = await refunds.list_page(
        session=session,
        actor=me,
        filters=queries.RefundFilter(status=RefundStatus.AGREED.value),
        page=queries.Page(max(1, number), 20),
    )
    items = [r for r in (refund_out(s, me) for s in found.items) if r is not None]
    page = {"items": items, "total": found.total, "page": number, "page_size": 20}
    return render(
        request,
        "finance.html",
        me,
        section="finance",
        page=page,
        report=report,
        page_link=lambda n: query_link(request, page=n),
    )


@router.post("/finance/refunds/{refund_id}/payout", response_model=None)
async def payout(
    request: Request, refund_id: str, me: FinancePage, session: SessionDep, client: TemporalDep
) -> Response:
    form = await form_of(request)
    try:
        command = Payout(
            actor=me,
            amount_fen=int(str(form.get("amount_fen", "0"))),
            bank_reference=str(form.get("bank_reference", "")).strip(),
        )
    except (ValidationError, ValueError):
        return redirect("/finance", err="请填写银行流水号")
    return await _act_on_refund(
        me, session, client, refund_id, command, f"{refund_id} 已确认打款", "/finance"
    )


@router.get("/finance/ledger", response_class=HTMLResponse, response_model=None)
async def ledger(request: Request, me: FinancePage, session: SessionDep) -> Response:
    from api.responses import payout_out

    number = (
        int(request.query_params.get("page", "1"))
        if request.query_params.get("page", "1").isdigit()
        else 1
    )
    found = await queries.payouts_page(session, page=queries.Page(max(1, number), 50))
    page = {
        "items": [payout_out(r) for r in found.items],
        "total": found.total,
        "page": number,
        "page_size": 50,
    }
    return render(
        request,
        "ledger.html",
        me,
        section="ledger",
        page=page,
        daily=payout_batch.daily_totals(await queries.all_payouts(session)),
        page_link=lambda n: query_link(request, page=n),
    )


# --- 开发: the e-mails the local SMTP catcher holds --------------------------------------------


def _read_mail(folder: Path, limit: int = 100) -> list[dict[str, str]]:
    messages = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        messages.append(
            {
                "date": str(message.get("Date", "")),
                "to": str(message.get("To", "")),
                "subject": str(message.get("Subject", "")),
                "text": body.get_content() if body else "",
            }
        )
    return messages


@router.get("/dev/mail", response_class=HTMLResponse, response_model=None)
async def dev_mail(request: Request, me: PageUser, settings: SettingsDep) -> Response:
    if settings.environment != "development":
        return redirect("/", err="仅开发环境可用")
    if me is None:
        return redirect("/login?next=/dev/mail")
    return render(
        request,
        "mail.html",
        me,
        section="mail",
        folder=str(settings.mail_dir),
        messages=_read_mail(settings.mail_dir),
    )


def install(app: Any) -> None:
    from fastapi.staticfiles import StaticFiles

    @app.exception_handler(PageRedirect)
    async def _redirect(_: Request, exc: PageRedirect) -> RedirectResponse:
        return exc.response

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(router)
