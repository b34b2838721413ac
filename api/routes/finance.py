"""Finance (finance or admin): refunds awaiting payout, payout confirmation, the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from api import command_builders as build
from api import openapi, responses, schemas
from api.deps import CardCipherDep, FinanceUser, SessionDep, SettingsDep, TemporalDep
from api.routes.command_sender import Sender
from api.routes.common import FinanceRefundParams, PayoutParams
from api.schemas import PayoutIn
from api.services import bank_cards, payout_batch, refunds
from db import queries
from db.queries import RefundFilter
from domain.statuses import RefundStatus

router = APIRouter(prefix="/api/finance", tags=["finance"])

CSV_DOWNLOAD = {"Content-Disposition": 'attachment; filename="payouts.csv"'}
# Full card numbers: no cache, shared or private, keeps a copy.
DUE_CSV_DOWNLOAD = {
    "Content-Disposition": 'attachment; filename="payouts-due.csv"',
    "Cache-Control": "no-store",
}


@router.get(
    "/refunds",
    response_model=schemas.PageOut[schemas.RefundOut],
    summary="List refunds to pay · 待打款",
)
async def list_refunds(
    params: Annotated[FinanceRefundParams, Query()], actor: FinanceUser, session: SessionDep
) -> schemas.PageOut[schemas.RefundOut]:
    """Finance or admin. Refunds by status, agreed ones (待打款) by default."""
    found = await refunds.list_page(
        session=session,
        actor=actor,
        filters=RefundFilter(status=params.status.value),
        page=params.as_page(),
    )
    return responses.refund_page_out(found, actor, page=params.page, page_size=params.page_size)


@router.post(
    "/refunds/{refund_id}/payout",
    response_model=schemas.RefundOut,
    summary="Confirm a payout · 确认打款",
    responses=openapi.COMMAND,
)
async def confirm_payout(
    refund_id: str, body: PayoutIn, actor: FinanceUser, send: Sender
) -> schemas.RefundOut:
    """Finance or admin: `amount_fen` must equal the agreed amount; the refund becomes
    `refunded`."""
    return await send.to_refund(refund_id, build.payout(actor, body))


@router.get(
    "/payouts",
    response_model=schemas.PageOut[schemas.PayoutOut],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv"}},
    summary="List payouts · 打款记录",
)
async def list_payouts(
    params: Annotated[PayoutParams, Query()], actor: FinanceUser, session: SessionDep
) -> schemas.PageOut[schemas.PayoutOut] | Response:
    """Finance or admin. A page of payouts, or with `format=csv` all of them as a CSV download."""
    if params.format == "csv":
        csv = responses.payouts_csv(await queries.all_payouts(session))
        return Response(csv, media_type="text/csv; charset=utf-8", headers=CSV_DOWNLOAD)
    found = await queries.payouts_page(session, page=params.as_page())
    return responses.payout_page_out(found, page=params.page, page_size=params.page_size)


@router.get(
    "/payouts/due.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "agreed refunds to pay"}},
    summary="Download payouts due · 待打款清单",
)
async def payouts_due_csv(
    actor: FinanceUser, session: SessionDep, cipher: CardCipherDep
) -> Response:
    """Finance or admin. Agreed refunds waiting for payout as CSV, with the full card number,
    for the bank transfer; never cached."""
    due = await queries.all_refunds(session, filters=RefundFilter(status=RefundStatus.AGREED.value))
    numbers = await bank_cards.full_numbers(
        session=session, cipher=cipher, reader=actor, orders=due
    )
    csv = responses.payouts_due_csv(due, numbers)
    return Response(csv, media_type="text/csv; charset=utf-8", headers=DUE_CSV_DOWNLOAD)


class BatchLineOut(BaseModel):
    line: int
    refund_id: str
    outcome: str
    detail: str


class BatchReportOut(BaseModel):
    applied: list[BatchLineOut]
    already_applied: list[BatchLineOut]
    refused: list[BatchLineOut]


BATCH_FILE_LIMIT = payout_batch.MAX_FILE_BYTES


@router.post(
    "/payouts/batch",
    response_model=BatchReportOut,
    summary="Confirm payouts from the bank's file · 批量确认打款",
)
async def confirm_payout_batch(
    actor: FinanceUser,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV: 退款编号, 退款金额(元), 银行流水号")],
) -> BatchReportOut:
    """Finance or admin. A CSV (退款编号, 退款金额(元), 银行流水号), UTF-8 or GBK: each
    line applied, already applied, or refused with its reason. A retried file changes
    nothing twice."""
    data = await payout_batch.read_file(file)
    report = await payout_batch.confirm_batch(
        session=session,
        client=client,
        actor=actor,
        data=data,
        accept_within=settings.update_accept_timeout,
    )
    return BatchReportOut.model_validate(report, from_attributes=True)


class DailyTotalOut(BaseModel):
    day: str
    payouts: int
    amount_fen: int


@router.get(
    "/payouts/daily",
    response_model=list[DailyTotalOut],
    summary="Payout totals per day · 每日打款汇总",
)
async def payout_totals_per_day(actor: FinanceUser, session: SessionDep) -> list[DailyTotalOut]:
    """Finance or admin. Number and amount of payouts per day (Shanghai time)."""
    rows = await queries.all_payouts(session)
    return [
        DailyTotalOut(day=day, payouts=count, amount_fen=amount)
        for day, count, amount in payout_batch.daily_totals(rows)
    ]
