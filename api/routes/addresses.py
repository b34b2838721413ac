"""收货地址: the buyer's address book."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import responses, schemas
from api.deps import BuyerUser, SessionDep
from api.services import addresses
from db import addresses as address_queries
from domain.inputs import AddressInput

router = APIRouter(prefix="/api/addresses", tags=["addresses"])


@router.get("", response_model=list[schemas.AddressOut], summary="List addresses · 收货地址")
async def list_addresses(actor: BuyerUser, session: SessionDep) -> list[schemas.AddressOut]:
    """Buyer. The buyer's address book. Not paginated."""
    found = await address_queries.addresses(session, buyer=actor.username)
    return [responses.address_out(a) for a in found]


@router.post(
    "", response_model=schemas.AddressOut, status_code=201, summary="Add an address · 新增收货地址"
)
async def create_address(
    body: AddressInput, actor: BuyerUser, session: SessionDep
) -> schemas.AddressOut:
    """Buyer. 201 with the address and its `id`; `is_default` makes it the preselected one."""
    address = await addresses.create(session=session, buyer=actor.username, data=body)
    return responses.address_out(address)


@router.put(
    "/{address_id}", response_model=schemas.AddressOut, summary="Replace an address · 修改收货地址"
)
async def replace_address(
    address_id: int, body: AddressInput, actor: BuyerUser, session: SessionDep
) -> schemas.AddressOut:
    """Buyer. The same body as adding one; another buyer's address is 404."""
    address = await addresses.replace(
        session=session, buyer=actor.username, address_id=address_id, data=body
    )
    return responses.address_out(address)


@router.delete("/{address_id}", status_code=204, summary="Delete an address · 删除收货地址")
async def delete_address(address_id: int, actor: BuyerUser, session: SessionDep) -> Response:
    """Buyer. 204; orders that used it keep their consignee."""
    await addresses.delete(session=session, buyer=actor.username, address_id=address_id)
    return Response(status_code=204)
