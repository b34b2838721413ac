"""店铺订购 catalog: every product line on every platform, with its modules."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import SessionDep
from api.views import product_out
from db import queries

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


@router.get("/products", response_model=list[schemas.ProductOut])
async def products(
    session: SessionDep, line: str | None = None, platform: str | None = None
) -> list[schemas.ProductOut]:
    return [product_out(p) for p in await queries.products(session, line=line, platform=platform)]
