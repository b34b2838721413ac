"""开票: invoice applications as their buyer (only theirs) or staff (all) see them, and the
buyer's correction of a returned one (发票修改)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import responses, schemas
from api.deps import BuyerUser, CurrentUser, IdempotencyKey, SessionDep, TemporalDep
from api.routes.common import InvoiceParams
from api.services import invoices
from domain.commands import EditInvoice
from domain.inputs import InvoiceProfilePatch

router = APIRouter(prefix="/api/invoices", tags=["invoices"])


@router.get("", response_model=schemas.PageOut[schemas.InvoiceOut])
async def list_invoices(
    params: Annotated[InvoiceParams, Query()], actor: CurrentUser, session: SessionDep
) -> schemas.PageOut[schemas.InvoiceOut]:
    found = await invoices.list_page(
        session=session,
        actor=actor,
        order_no=params.order_no,
        status=params.status,
        page=params.as_page(),
    )
    return schemas.PageOut[schemas.InvoiceOut](
        items=[responses.invoice_out(state, invoice, actor) for state, invoice in found.items],
        total=found.total,
        page=params.page,
        page_size=params.page_size,
    )


@router.get("/{invoice_app_no}", response_model=schemas.InvoiceOut)
async def get_invoice(
    invoice_app_no: str, actor: CurrentUser, session: SessionDep
) -> schemas.InvoiceOut:
    state, invoice = await invoices.visible(
        session=session, actor=actor, invoice_app_no=invoice_app_no
    )
    return responses.invoice_out(state, invoice, actor)


@router.put("/{invoice_app_no}", response_model=schemas.InvoiceOut)
async def edit_invoice(
    invoice_app_no: str,
    body: InvoiceProfilePatch,
    actor: BuyerUser,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InvoiceOut:
    state, invoice = await invoices.act(
        session=session,
        client=client,
        command=EditInvoice(actor=actor, invoice_app_no=invoice_app_no, patch=body),
        idempotency_key=idempotency_key,
    )
    return responses.invoice_out(state, invoice, actor)
