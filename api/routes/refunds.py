"""退款管理: refunds as their buyer (only theirs) or staff (all) see them, with the proof."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from api import responses, schemas
from api.deps import CurrentUser, SessionDep, SettingsDep
from api.routes.common import RefundParams
from api.services import refunds

router = APIRouter(prefix="/api/refunds", tags=["refunds"])


@router.get(
    "", response_model=schemas.PageOut[schemas.RefundOut], summary="List refunds · 退款管理"
)
async def list_refunds(
    params: Annotated[RefundParams, Query()], actor: CurrentUser, session: SessionDep
) -> schemas.PageOut[schemas.RefundOut]:
    """Signed in: a buyer lists their own refunds, staff every buyer's."""
    found = await refunds.list_page(
        session=session, actor=actor, filters=params.filters(), page=params.as_page()
    )
    return responses.refund_page_out(found, actor, page=params.page, page_size=params.page_size)


@router.get("/{refund_id}", response_model=schemas.RefundOut, summary="Read a refund · 退款详情")
async def get_refund(refund_id: str, actor: CurrentUser, session: SessionDep) -> schemas.RefundOut:
    """Signed in (a buyer only their own), with its `log`."""
    state = await refunds.visible(session=session, actor=actor, refund_id=refund_id)
    return responses.refund_out(state, actor)


@router.get(
    "/{refund_id}/proof",
    response_class=FileResponse,
    summary="Download the refund proof · 退款证明",
)
async def download_proof(
    refund_id: str, actor: CurrentUser, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """Signed in (a buyer only their own): the proof document as uploaded, served as the type
    its content shows."""
    path, proof = await refunds.proof_file(
        session=session, settings=settings, actor=actor, refund_id=refund_id
    )
    return FileResponse(path, media_type=proof.content_type, filename=proof.filename)
