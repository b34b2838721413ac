"""开票: invoice applications as their buyer (only theirs) or staff (all) see them, and the
buyer's correction of a returned one (发票修改)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api import command_builders as build
from api import openapi, responses, schemas
from api.deps import BuyerUser, CurrentUser, SessionDep
from api.routes.command_sender import Sender
from api.routes.common import AdminInvoiceParams, InvoiceParams
from api.services import invoices
from domain.inputs import InvoiceProfilePatch
from domain.order import Actor

router = APIRouter(prefix="/api/invoices", tags=["invoices"])


async def invoice_page(
    params: InvoiceParams | AdminInvoiceParams, actor: Actor, session: AsyncSession
) -> schemas.PageOut[schemas.InvoiceOut]:
    """A page of the applications ``actor`` may see (their own; staff: every buyer's)."""
    found = await invoices.list_page(
        session=session,
        actor=actor,
        order_no=params.order_no,
        statuses=params.statuses(),
        page=params.as_page(),
    )
    return responses.invoice_page_out(found, actor, page=params.page, page_size=params.page_size)


@router.get(
    "",
    response_model=schemas.PageOut[schemas.InvoiceOut],
    summary="List invoice applications · 开票",
)
async def list_invoices(
    params: Annotated[InvoiceParams, Query()], actor: CurrentUser, session: SessionDep
) -> schemas.PageOut[schemas.InvoiceOut]:
    """Signed in: a buyer lists their own applications, staff every buyer's."""
    return await invoice_page(params, actor, session)


@router.get(
    "/{invoice_app_no}",
    response_model=schemas.InvoiceOut,
    summary="Read an invoice application · 开票详情",
)
async def get_invoice(
    invoice_app_no: str, actor: CurrentUser, session: SessionDep
) -> schemas.InvoiceOut:
    """Signed in (a buyer only their own)."""
    state, invoice = await invoices.visible(
        session=session, actor=actor, invoice_app_no=invoice_app_no
    )
    return responses.invoice_out(state, invoice, actor)


@router.put(
    "/{invoice_app_no}",
    response_model=schemas.InvoiceOut,
    summary="Correct a returned invoice application · 发票修改",
    responses=openapi.COMMAND,
)
async def edit_invoice(
    invoice_app_no: str, body: InvoiceProfilePatch, actor: BuyerUser, send: Sender
) -> schemas.InvoiceOut:
    """Buyer, only while the application is returned (已退回); 409 once issued. Any subset of the
    invoice-profile fields; back to 已申请."""
    return await send.to_invoice(build.edit_invoice(actor, invoice_app_no, body))
