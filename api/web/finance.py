"""财务, for finance staff and admins: refunds waiting for payout, payout confirmation one
by one or from the bank's result file, and the payout ledger."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from api import command_builders as build
from api import responses
from api.card_cipher import CardCipher
from api.csrf import read_page_form
from api.deps import CardCipherDep, SessionDep, SettingsDep, TemporalDep
from api.errors import Problem
from api.services import bank_cards, payout_batch, refunds
from api.web import forms
from api.web.action_errors import (
    answer_refusal,
    failed_action,
    failed_on,
    refused_action,
)
from api.web.plumbing import (
    FinancePage,
    page_number,
    query_link,
    redirect,
    referring_page,
    render,
)
from db import queries
from domain.order import Actor
from domain.statuses import RefundStatus

router = APIRouter(include_in_schema=False)

FINANCE_PAGE = "/finance"
WAITING_PAGE_SIZE = 20
LEDGER_PAGE_SIZE = 50
# The refunds finance lists: waiting for payout, or paid out.
FINANCE_STATUSES = {s.value: s for s in (RefundStatus.AGREED, RefundStatus.REFUNDED)}


async def _finance_page(
    request: Request,
    me: Actor,
    session: AsyncSession,
    cipher: CardCipher,
    report: payout_batch.BatchReport | None = None,
) -> Response:
    number = page_number(request)
    # 同意退款 (to pay) unless the filter asks for 已退款 (paid).
    status = FINANCE_STATUSES.get(request.query_params.get("status", ""), RefundStatus.AGREED)
    found = await refunds.list_page(
        session=session,
        actor=me,
        filters=queries.RefundFilter(status=status.value),
        page=queries.Page(number, WAITING_PAGE_SIZE),
    )
    # Finance pays these: the page shows their full card numbers (agreed refunds only).
    card_numbers = (
        await bank_cards.full_numbers(session=session, cipher=cipher, reader=me, orders=found.items)
        if status is RefundStatus.AGREED
        else {}
    )
    response = render(
        request,
        "finance.html",
        me,
        section="finance",
        page=responses.refund_page_out(found, me, page=number, page_size=WAITING_PAGE_SIZE),
        card_numbers=card_numbers,
        report=report,
        failed=failed_on(request),
        status=status.value,
        statuses=[(s.value, s.label) for s in FINANCE_STATUSES.values()],
        page_link=lambda n: query_link(request, page=n),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/finance", response_class=HTMLResponse, response_model=None)
async def finance(
    request: Request, me: FinancePage, session: SessionDep, cipher: CardCipherDep
) -> Response:
    return await _finance_page(request, me, session, cipher)


@router.post("/finance/batch", response_model=None)
async def finance_batch(
    request: Request,
    me: FinancePage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    cipher: CardCipherDep,
) -> Response:
    upload = (await read_page_form(request)).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        failed = failed_action("batch", {}, ["file"], "请选择银行回单 CSV 文件")
        return refused_action(request, FINANCE_PAGE, failed)
    try:
        data = await payout_batch.read_file(upload)
        report = await payout_batch.confirm_batch(
            session=session, client=client, actor=me, data=data,
            accept_within=settings.update_accept_timeout,
        )  # fmt: skip
    except Problem as problem:
        failed = failed_action("batch", {}, ["file"], problem)
        return refused_action(request, FINANCE_PAGE, failed)
    return await _finance_page(request, me, session, cipher, report)


@router.post("/finance/refunds/{refund_id}/payout", response_model=None)
async def payout(
    request: Request,
    refund_id: str,
    me: FinancePage,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    cipher: CardCipherDep,
) -> Response:
    """确认打款 from the list; a refusal goes back to it (the same page of it, where the
    refund's form is), the error beside 银行流水号."""
    form = await forms.form_of(request)
    back = referring_page(request, FINANCE_PAGE)
    if urlsplit(back).path != FINANCE_PAGE:
        back = FINANCE_PAGE
    try:
        command = build.payout(me, forms.payout(form))
        await refunds.act(
            session=session, client=client, refund_id=refund_id, command=command,
            idempotency_key=None, accept_within=settings.update_accept_timeout,
        )  # fmt: skip
    except (ValidationError, Problem) as error:
        return answer_refusal(
            request, error, back=back, form_id=f"payout-{refund_id}", form=form,
            inputs=["bank_reference"],
        )  # fmt: skip
    return redirect(back, ok=f"{refund_id} 已确认打款")


@router.get("/finance/ledger", response_class=HTMLResponse, response_model=None)
async def ledger(request: Request, me: FinancePage, session: SessionDep) -> Response:
    number = page_number(request)
    found = await queries.payouts_page(session, page=queries.Page(number, LEDGER_PAGE_SIZE))
    return render(
        request,
        "ledger.html",
        me,
        section="ledger",
        page=responses.payout_page_out(found, page=number, page_size=LEDGER_PAGE_SIZE),
        daily=payout_batch.daily_totals(await queries.all_payouts(session)),
        page_link=lambda n: query_link(request, page=n),
    )
