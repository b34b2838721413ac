"""收货地址: the buyer's address book."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import responses, schemas
from api.deps import BuyerUser, SessionDep
from api.services import addresses
from db import addresses as address_queries
from domain.inputs import AddressInput

router = APIRouter(prefix="/api/addresses", tags=["addresses"])


@router.get("", response_model=list[schemas.AddressOut])
async def list_addresses(actor: BuyerUser, session: SessionDep) -> list[schemas.AddressOut]:
    found = await address_queries.addresses(session, buyer=actor.username)
    return [responses.address_out(a) for a in found]


@router.post("", response_model=schemas.AddressOut, status_code=201)
async def create_address(
    body: AddressInput, actor: BuyerUser, session: SessionDep
) -> schemas.AddressOut:
    address = await addresses.create(session=session, buyer=actor.username, data=body)
    return responses.address_out(address)


@router.put("/{address_id}", response_model=schemas.AddressOut)
async def replace_address(
    address_id: int, body: AddressInput, actor: BuyerUser, session: SessionDep
) -> schemas.AddressOut:
    address = await addresses.replace(
        session=session, buyer=actor.username, address_id=address_id, data=body
    )
    return responses.address_out(address)


@router.delete("/{address_id}", status_code=204)
async def delete_address(address_id: int, actor: BuyerUser, session: SessionDep) -> Response:
    await addresses.delete(session=session, buyer=actor.username, address_id=address_id)
    return Response(status_code=204)
