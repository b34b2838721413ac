"""发票信息: the buyer's invoice profiles."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import responses, schemas
from api.deps import BuyerUser, SessionDep
from api.services import profiles
from db import queries
from domain.inputs import InvoiceProfileInput

router = APIRouter(prefix="/api/invoice-profiles", tags=["invoice profiles"])


@router.get("", response_model=list[schemas.ProfileOut], summary="List invoice profiles · 发票信息")
async def list_profiles(actor: BuyerUser, session: SessionDep) -> list[schemas.ProfileOut]:
    """Buyer. The buyer's saved invoice profiles. Not paginated."""
    return [responses.profile_out(p) for p in await queries.profiles(session, owner=actor.username)]


@router.post(
    "",
    response_model=schemas.ProfileOut,
    status_code=201,
    summary="Add an invoice profile · 新增发票信息",
)
async def create_profile(
    body: InvoiceProfileInput, actor: BuyerUser, session: SessionDep
) -> schemas.ProfileOut:
    """Buyer. 201 with the profile and its `id`."""
    profile = await profiles.create(session=session, owner=actor.username, data=body)
    return responses.profile_out(profile)


@router.put(
    "/{profile_id}",
    response_model=schemas.ProfileOut,
    summary="Replace an invoice profile · 修改发票信息",
)
async def replace_profile(
    profile_id: int, body: InvoiceProfileInput, actor: BuyerUser, session: SessionDep
) -> schemas.ProfileOut:
    """Buyer. Orders already placed keep the snapshot they took."""
    profile = await profiles.replace(
        session=session, owner=actor.username, profile_id=profile_id, data=body
    )
    return responses.profile_out(profile)


@router.delete("/{profile_id}", status_code=204, summary="Delete an invoice profile · 删除发票信息")
async def delete_profile(profile_id: int, actor: BuyerUser, session: SessionDep) -> Response:
    """Buyer. 204; orders placed with it keep their snapshot."""
    await profiles.delete(session=session, owner=actor.username, profile_id=profile_id)
    return Response(status_code=204)
