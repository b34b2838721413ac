"""店铺订购 catalog: every product line on every platform, with its modules."""

from __future__ import annotations

from fastapi import APIRouter

from api import responses, schemas
from api.deps import SessionDep
from db import queries
from domain.catalog import Platform

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


@router.get(
    "/products", response_model=list[schemas.ProductOut], summary="List products · 产品目录"
)
async def list_products(
    session: SessionDep, line: str | None = None, platform: Platform | None = None
) -> list[schemas.ProductOut]:
    """Anyone. Every product line on every platform with its modules (附加服务) and prices; filter
    by `line` and `platform`. Not paginated."""
    found = await queries.products(
        session, line=line, platform=platform.value if platform else None
    )
    return [responses.product_out(product) for product in found]
