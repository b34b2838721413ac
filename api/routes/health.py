"""Health: a real round trip to the database and to Temporal, each bounded in time."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import schemas
from api.state import AppState, app_state

router = APIRouter(prefix="/api", tags=["health"])
log = logging.getLogger(__name__)

CHECK_TIMEOUT = timedelta(seconds=3)
OK, UNAVAILABLE = "ok", "unavailable"


async def _database(state: AppState) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT.total_seconds()), state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # whatever the failure, the answer is "unavailable"
        log.warning("database health check failed: %r", error)
        return UNAVAILABLE
    return OK


async def _temporal(state: AppState) -> str:
    try:
        client = await state.temporal.client()
        healthy = await client.service_client.check_health(timeout=CHECK_TIMEOUT)
    except Exception as error:  # whatever the failure, the answer is "unavailable"
        log.warning("Temporal health check failed: %r", error)
        return UNAVAILABLE
    return OK if healthy else UNAVAILABLE


@router.get(
    "/health",
    response_model=schemas.HealthOut,
    responses={503: {"model": schemas.HealthOut, "description": "a dependency is down"}},
    summary="Health · 健康检查",
)
async def health(state: Annotated[AppState, Depends(app_state)]) -> JSONResponse:
    """Anyone. A real round trip to the database and to Temporal, each bounded in time: 200
    when both answer, else 503 naming the failing part."""
    database, temporal = await asyncio.gather(_database(state), _temporal(state))
    healthy = database == OK and temporal == OK
    body = schemas.HealthOut(
        status=OK if healthy else UNAVAILABLE, database=database, temporal=temporal
    )
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
