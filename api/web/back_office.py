"""bmp后台, for reviewers and admins: review orders, record the platform's settlement,
review refunds, issue, ship or return invoices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import command_builders as build
from api import responses
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Problem
from api.routes.common import AdminInvoiceParams
from api.services import invoices, orders, queues, refunds
from api.web import forms, listings
from api.web.action_errors import (
    answer_refusal,
    failed_on,
)
from api.web.lookups import order_or_404
from api.web.plumbing import (
    ACTION_NAMES,
    ReviewerPage,
    StaffPage,
    redirect,
    referring_page,
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
# Each form's inputs, which its refusals are shown beside.
ORDER_INPUTS = {"approve": ["platform_amount_yuan"], "return": ["reason"], "void": ["reason"]}

REFUND_COMMANDS: dict[str, Callable[[Actor, SubmittedForm], Command]] = {
    "agree": lambda me, form: build.agree_refund(me, forms.no_note()),
    "return": lambda me, form: build.return_refund(me, forms.reason(form)),
}
REFUND_DONE = {"agree": "已同意退款，等待财务打款", "return": "已退回买家修改"}
REFUND_INPUTS = {"return": ["reason"]}

INVOICE_COMMANDS: dict[str, Callable[[Actor, str, SubmittedForm], InvoiceCommand]] = {
    "issue": lambda me, no, form: build.issue_invoice(me, no, forms.issue_invoice(form)),
    "ship": lambda me, no, form: build.ship_invoice(me, no, forms.ship_invoice(form)),
    "return": lambda me, no, form: build.return_invoice(me, no, forms.reason(form)),
}
INVOICE_INPUTS = {
    "issue": ["invoice_number"],
    "ship": ["courier", "tracking_no"],
    "return": ["reason"],
}
INVOICE_DONE = {
    "issue": "已开票",
    "ship": "已寄送，已邮件通知买家",
    "return": "已打回，已邮件通知买家",
}


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
        failed=failed_on(request),
    )


@router.post("/admin/orders/{order_no}/{action}", response_model=None)
async def admin_order_action(
    request: Request,
    order_no: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    back = f"/admin/orders/{order_no}"
    if action not in ORDER_COMMANDS:
        return redirect(back, err="未知操作")
    form = await forms.form_of(request)
    inputs = ORDER_INPUTS.get(action)
    try:
        command = ORDER_COMMANDS[action](me, form)
        await orders.act(
            session=session, client=client, order_no=order_no, command=command,
            idempotency_key=None, accept_within=settings.update_accept_timeout,
        )  # fmt: skip
    except (ValidationError, Problem) as error:
        return answer_refusal(request, error, back=back, form_id=action, form=form, inputs=inputs)
    return redirect(back, ok=ORDER_DONE[action])


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
    settings: SettingsDep,
) -> Response:
    back = f"/admin/refunds/{refund_id}"
    if action not in REFUND_COMMANDS:
        return redirect(back, err="未知操作")
    form = await forms.form_of(request)
    inputs = REFUND_INPUTS.get(action)
    try:
        command = REFUND_COMMANDS[action](me, form)
        await refunds.act(
            session=session, client=client, refund_id=refund_id, command=command,
            idempotency_key=None, accept_within=settings.update_accept_timeout,
        )  # fmt: skip
    except (ValidationError, Problem) as error:
        form_id = f"refund-{action}-{refund_id}"
        return answer_refusal(request, error, back=back, form_id=form_id, form=form, inputs=inputs)
    return redirect(back, ok=REFUND_DONE[action])


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
    """开票详情, with the issue / ship / return forms the application allows now."""
    return await listings.invoice_detail(request, me, session, invoice_app_no, "admin-invoices")


@router.post("/admin/invoices/{invoice_app_no}/{action}", response_model=None)
async def admin_invoice_action(
    request: Request,
    invoice_app_no: str,
    action: str,
    me: ReviewerPage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Back to the page the form was on; a refusal goes to the invoice's own page (开票详情),
    which shows the error beside the input and what was typed kept."""
    form = await forms.form_of(request)
    # The page the form was on: the list, an order or the invoice's own page.
    back = referring_page(request, "/admin/invoices")
    if action not in INVOICE_COMMANDS:
        return redirect(back, err="未知操作")
    try:
        command = INVOICE_COMMANDS[action](me, invoice_app_no, form)
        await invoices.act(
            session=session, client=client, command=command,
            idempotency_key=None, accept_within=settings.update_accept_timeout,
        )  # fmt: skip
    except (ValidationError, Problem) as error:
        return answer_refusal(
            request, error, back=back, form_id=f"{action}-{invoice_app_no}", form=form,
            inputs=INVOICE_INPUTS[action], form_page=f"/admin/invoices/{invoice_app_no}",
        )  # fmt: skip
    return redirect(back, ok=f"{invoice_app_no} {INVOICE_DONE[action]}")
