"""Health: the database and Temporal, checked for real."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

router = APIRouter(prefix="/api", tags=["health"])
log = logging.getLogger("api.health")
TIMEOUT_SECONDS = 3


async def _database_ok(request: Request) -> bool:
    try:
        async with request.app.state.sessions() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), TIMEOUT_SECONDS)
        return True
    except Exception as error:  # any failure means "not ok"; the reason goes to the log
        log.warning("database health check failed: %s", error)
        return False


async def _temporal_ok(request: Request) -> bool:
    try:
        client = request.app.state.temporal
        await asyncio.wait_for(client.workflow_service.get_system_info(GetSystemInfoRequest()), TIMEOUT_SECONDS)
        return True
    except Exception as error:
        log.warning("temporal health check failed: %s", error)
        return False


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    database, temporal = await asyncio.gather(_database_ok(request), _temporal_ok(request))
    body = {
        "status": "ok" if database and temporal else "unavailable",
        "database": "ok" if database else "unavailable",
        "temporal": "ok" if temporal else "unavailable",
    }
    return JSONResponse(body, status_code=200 if database and temporal else 503)
