"""Finance: refunds awaiting payout, payout confirmation, the payout ledger."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api import schemas
from api.deps import FinanceUser, SessionDep, TemporalDep
from api.routes.common import IdempotencyKey, PageNo, PageSize
from api.routes.orders import refund_page, visible_refund_state
from api.services import workflow_calls
from api.views import local, refund_out
from db import queries
from db.queries import Page, RefundFilter
from domain.calendar import format_local
from domain.commands import Payout
from domain.statuses import RefundStatus

router = APIRouter(prefix="/api/finance", tags=["finance"])

LEDGER_HEADERS = ("退款编号", "主订单号", "退款金额(元)", "银行流水号", "打款时间", "确认人")


class PayoutIn(BaseModel):
    amount_fen: int = Field(gt=0)
    bank_reference: str = Field(min_length=1, max_length=100)
    paid_at: datetime | None = None


@router.get("/refunds", response_model=schemas.PageOut[schemas.RefundOut])
async def refunds(
    actor: FinanceUser,
    session: SessionDep,
    status: RefundStatus = RefundStatus.AGREED,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> schemas.PageOut[schemas.RefundOut]:
    return await refund_page(session, actor, RefundFilter(status=status.value), Page(page, page_size))


@router.post("/refunds/{refund_id}/payout", response_model=schemas.RefundOut)
async def payout(
    refund_id: str,
    body: PayoutIn,
    actor: FinanceUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RefundOut:
    state = await visible_refund_state(session, actor, refund_id)
    command = Payout(actor=actor, amount_fen=body.amount_fen, bank_reference=body.bank_reference, paid_at=body.paid_at)
    refund = refund_out(await workflow_calls.send(client, state.order_no, command, idempotency_key=idempotency_key), actor)
    assert refund is not None
    return refund


@router.get("/payouts", response_model=schemas.PageOut[schemas.PayoutOut])
async def payouts(
    actor: FinanceUser,
    session: SessionDep,
    format: str | None = Query(default=None, pattern="^(json|csv)$"),
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> schemas.PageOut[schemas.PayoutOut] | Response:
    if format == "csv":
        rows, _ = await queries.payouts(session, None)
        return Response(ledger_csv(rows), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": 'attachment; filename="payouts.csv"'})
    rows, total = await queries.payouts(session, Page(page, page_size))
    items = [
        schemas.PayoutOut(
            refund_id=r.refund_id, order_no=r.order_no, amount_fen=r.amount_fen, bank_reference=r.bank_reference,
            paid_at=local(r.paid_at), confirmed_by=r.confirmed_by,  # type: ignore[arg-type]
        )
        for r in rows
    ]
    return schemas.PageOut[schemas.PayoutOut](items=items, total=total, page=page, page_size=page_size)


def ledger_csv(rows: list) -> bytes:  # type: ignore[type-arg]
    """Excel opens UTF-8 CSV correctly only with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LEDGER_HEADERS)
    for r in rows:
        writer.writerow([r.refund_id, r.order_no, f"{r.amount_fen / 100:.2f}", r.bank_reference, format_local(r.paid_at), r.confirmed_by])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
