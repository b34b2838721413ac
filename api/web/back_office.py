"""bmp后台, for reviewers and admins: review orders, record the platform's settlement,
review refunds, issue, ship or return invoices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import command_builders as build
from api import responses
from api.deps import SessionDep, TemporalDep
from api.errors import Problem
from api.routes.common import AdminInvoiceParams
from api.services import invoices, queues
from api.web import forms, listings, sending
from api.web.lookups import order_or_404
from api.web.plumbing import (
    ACTION_NAMES,
    PageRedirect,
    ReviewerPage,
    StaffPage,
    redirect,
    render,
)
from domain.commands import Command, InvoiceCommand
from domain.order import Actor

router = APIRouter(include_in_schema=False)

SubmittedForm = dict[str, Any]

# What each order button sends, built from the form as the API builds it from a body.
ORDER_COMMANDS: dict[str, Callable[[Actor, SubmittedForm], Command]] = {
    "approve": lambda me, form: build.approve(me, forms.approve(form)),
    "return": lambda me, form: build.return_order(me, forms.reason(form)),
    "void": lambda me, form: build.void_order(me, forms.reason(form)),
    "settlement": lambda me, form: build.record_settlement(me, forms.no_note()),
}
ORDER_DONE = {
    "approve": "已审核通过",
    "return": "已打回，已邮件通知买家",
    "void": "已作废",
    "settlement": "已记录平台结算",
}
ORDER_INPUT_MISSING = {"approve": "平台实付金额应为大于 0 的数字（元）"}

REFUND_COMMANDS: dict[str, Callable[[Actor, SubmittedForm], Command]] = {
    "agree": lambda me, form: build.agree_refund(me, forms.no_note()),
    "return": lambda me, form: build.return_refund(me, forms.reason(form)),
}
REFUND_DONE = {"agree": "已同意退款，等待财务打款", "return": "已退回买家修改"}

INVOICE_COMMANDS: dict[str, Callable[[Actor, str, SubmittedForm], InvoiceCommand]] = {
    "issue": lambda me, no, form: build.issue_invoice(me, no, forms.issue_invoice(form)),
    "ship": lambda me, no, form: build.ship_invoice(me, no, forms.ship_invoice(form)),
    "return": lambda me, no, form: build.return_invoice(me, no, forms.reason(form)),
}
INVOICE_DONE = {
    "issue": "已开票",
    "ship": "已寄送，已邮件通知买家",
    "return": "已打回，已邮件通知买家",
}


def _command_or_back(
    commands: Mapping[str, Callable[[Actor, SubmittedForm], Command]],
    action: str,
    me: Actor,
    form: SubmittedForm,
    back: str,
    missing_input: str,
) -> Command:
    """What the button ``action`` sends, else a redirect to ``back`` saying what is wrong."""
    if action not in commands:
        raise PageRedirect(redirect(back, err="未知操作"))
    try:
        return commands[action](me, form)
    except ValidationError:
        raise PageRedirect(redirect(back, err=missing_input)) from None
    except Problem as problem:
        raise PageRedirect(redirect(back, err=problem.detail)) from problem


# --- orders ------------------------------------------------------------------------------


@router.get("/admin/orders", response_class=HTMLResponse, response_model=None)
async def admin_orders(request: Request, me: ReviewerPage, session: SessionDep) -> Response:
    # The back office's home: each work queue's count and how many are past the limit.
    return await listings.orders_page(
        request,
        me,
        session,
        "admin_orders.html",
        "admin",
        work_queues=await queues.queue_counts(session),
        queue_links=queues.QUEUE_LINKS,
    )


@router.get("/admin/orders/{order_no}", response_class=HTMLResponse, response_model=None)
async def admin_order(
    request: Request, order_no: str, me: ReviewerPage, session: SessionDep
) -> Response:
    state = await order_or_404(session, me, order_no)
    return render(
        request,
        "admin_order.html",
        me,
        section="admin",
        o=responses.order_out(state, me),
        action_labels=ACTION_NAMES,
    )


@router.post("/admin/orders/{order_no}/{action}", response_model=None)
async def admin_order_action(
    request: Request,
    order_no: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
) -> Response:
    back = f"/admin/orders/{order_no}"
    missing = ORDER_INPUT_MISSING.get(action, "请填写原因")
    form = await forms.form_of(request)
    command = _command_or_back(ORDER_COMMANDS, action, me, form, back, missing)
    return await sending.to_order(session, client, order_no, command, ORDER_DONE[action], back)


# --- refunds -----------------------------------------------------------------------------


@router.get("/admin/refunds", response_class=HTMLResponse, response_model=None)
async def admin_refunds(request: Request, me: StaffPage, session: SessionDep) -> Response:
    return await listings.refunds_page(request, me, session, "admin-refunds", "/admin/refunds")


@router.get("/admin/refunds/{refund_id}", response_class=HTMLResponse, response_model=None)
async def admin_refund(
    request: Request, refund_id: str, me: StaffPage, session: SessionDep
) -> Response:
    return await listings.refund_detail(request, me, session, refund_id, "admin-refunds")


@router.post("/admin/refunds/{refund_id}/{action}", response_model=None)
async def admin_refund_action(
    request: Request,
    refund_id: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
) -> Response:
    back = f"/admin/refunds/{refund_id}"
    missing = "请填写退款修改原因"
    form = await forms.form_of(request)
    command = _command_or_back(REFUND_COMMANDS, action, me, form, back, missing)
    return await sending.to_refund(session, client, refund_id, command, REFUND_DONE[action], back)


# --- invoices ----------------------------------------------------------------------------


@router.get("/admin/invoices", response_class=HTMLResponse, response_model=None)
async def admin_invoices(request: Request, me: ReviewerPage, session: SessionDep) -> Response:
    return await listings.invoices_page(
        request, me, session, "admin-invoices", "/admin/invoices", AdminInvoiceParams
    )


@router.get("/admin/invoices/{invoice_app_no}", response_class=HTMLResponse, response_model=None)
async def admin_invoice(
    request: Request, invoice_app_no: str, me: ReviewerPage, session: SessionDep
) -> Response:
    return await listings.invoice_detail(request, me, session, invoice_app_no, "admin-invoices")


def _referring_page(request: Request) -> str:
    """The path of the page the form was on (the list or an order)."""
    referer = str(request.headers.get("referer") or "")
    if referer.startswith("http") and referer.count("/") >= 3:
        return "/" + referer.split("/", 3)[3]
    return "/admin/invoices"


@router.post("/admin/invoices/{invoice_app_no}/{action}", response_model=None)
async def admin_invoice_action(
    request: Request,
    invoice_app_no: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
) -> Response:
    form = await forms.form_of(request)
    back = _referring_page(request)
    if action not in INVOICE_COMMANDS:
        return redirect(back, err="未知操作")
    try:
        command = INVOICE_COMMANDS[action](me, invoice_app_no, form)
        await invoices.act(session=session, client=client, command=command, idempotency_key=None)
    except ValidationError:
        return redirect(back, err="请填写完整信息")
    except Problem as problem:
        return redirect(back, err=problem.detail)
    return redirect(back, ok=f"{invoice_app_no} {INVOICE_DONE[action]}")
