"""The lists the buyer center and the back office both show — orders, refunds, invoice
applications — over the same services and filters as the API's list routes."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import responses
from api.errors import Problem
from api.routes.common import AdminInvoiceParams, InvoiceParams, OrderParams, RefundParams
from api.routes.orders import order_page
from api.services import invoices, refunds
from api.web.action_errors import failed_on
from api.web.lookups import invoice_or_404
from api.web.plumbing import (
    ACTION_NAMES,
    HOME,
    INVOICE_STATUSES,
    ORDER_STATUSES,
    PLATFORMS,
    REFUND_STATUSES,
    TABS,
    query_link,
    redirect,
    render,
)
from domain.order import Actor
from domain.statuses import STAFF

Params = TypeVar("Params", bound=BaseModel)


def list_query(request: Request, model: type[Params]) -> Params:
    """The list's query, parsed by the same model the API route uses (blank fields unset)."""
    given = {
        k: v for k, v in request.query_params.items() if v and k not in ("ok", "err", "expand")
    }
    return model.model_validate(given)


async def orders_page(
    request: Request,
    me: Actor,
    session: AsyncSession,
    template: str,
    section: str,
    **extra: Any,
) -> Response:
    q = request.query_params
    try:
        params = list_query(request, OrderParams)
    except ValidationError:
        return redirect(request.url.path, err="查询条件有误")
    expanded = q.get("expand")
    return render(
        request,
        template,
        me,
        section=section,
        page=await order_page(params, me, session),
        tab=params.tab.value,
        tabs=TABS,
        q=q,
        platforms=PLATFORMS,
        invoice_statuses=INVOICE_STATUSES,
        order_statuses=ORDER_STATUSES,
        expanded=expanded,
        action_labels=ACTION_NAMES,
        tab_link=lambda t: query_link(request, tab=t, page=None, expand=None),
        expand_link=lambda no: query_link(request, expand=None if no == expanded else no)[1:],
        page_link=lambda n: query_link(request, page=n),
        **extra,
    )


async def refunds_page(
    request: Request, me: Actor, session: AsyncSession, section: str, detail_prefix: str
) -> Response:
    try:
        params = list_query(request, RefundParams)
    except ValidationError:
        return redirect(request.url.path, err="查询条件有误")
    found = await refunds.list_page(
        session=session, actor=me, filters=params.filters(), page=params.as_page()
    )
    return render(
        request,
        "my_refunds.html",
        me,
        section=section,
        page=responses.refund_page_out(found, me, page=params.page, page_size=params.page_size),
        q=request.query_params,
        platforms=PLATFORMS,
        refund_statuses=REFUND_STATUSES,
        detail_prefix=detail_prefix,
        page_link=lambda n: query_link(request, page=n),
    )


async def refund_detail(
    request: Request,
    me: Actor,
    session: AsyncSession,
    refund_id: str,
    section: str,
) -> Response:
    """退款详情; a refused action form (api.web.action_errors) comes back with its error
    beside its input."""
    try:
        state = await refunds.visible(session=session, actor=me, refund_id=refund_id)
    except Problem as problem:
        return redirect(HOME[me.role], err=problem.detail)
    return render(
        request,
        "refund_detail.html",
        me,
        section=section,
        o=responses.order_out(state, me),
        r=responses.refund_out(state, me),
        staff_actions=me.role in STAFF,
        failed=failed_on(request),
    )


async def invoice_detail(
    request: Request,
    me: Actor,
    session: AsyncSession,
    invoice_app_no: str,
    section: str,
) -> Response:
    """开票详情; staff see the issue / ship / return forms the application allows now, a
    refused one with its error beside its input and what was typed."""
    state, invoice = await invoice_or_404(session, me, invoice_app_no)
    return render(
        request,
        "invoice_detail.html",
        me,
        section=section,
        i=responses.invoice_out(state, invoice, me),
        failed=failed_on(request),
    )


async def invoices_page(
    request: Request,
    me: Actor,
    session: AsyncSession,
    section: str,
    detail_prefix: str,
    params_model: type[InvoiceParams] | type[AdminInvoiceParams] = InvoiceParams,
) -> Response:
    """发票信息 (a buyer's) or 开票管理 (the back office's queue), filtered like the API."""
    try:
        params = list_query(request, params_model)
    except ValidationError:
        return redirect(request.url.path, err="查询条件有误")
    found = await invoices.list_page(
        session=session,
        actor=me,
        order_no=params.order_no,
        statuses=params.statuses(),
        page=params.as_page(),
    )
    return render(
        request,
        "my_invoices.html",
        me,
        section=section,
        page=responses.invoice_page_out(found, me, page=params.page, page_size=params.page_size),
        q=request.query_params,
        invoice_statuses=INVOICE_STATUSES,
        queue=params_model is AdminInvoiceParams,
        detail_prefix=detail_prefix,
        page_link=lambda n: query_link(request, page=n),
    )
