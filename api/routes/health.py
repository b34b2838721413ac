"""Health: a real round trip to the database and to Temporal, each bounded in time, and
whether a worker is taking the orders' workflow tasks."""

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
# Up, but no worker polls the task queue: reads work, changes answer 503 not_accepted.
DEGRADED, NO_POLLERS = "degraded", "no_pollers"


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


async def _task_queue(state: AppState) -> str:
    try:
        client = await state.temporal.client()
        pollers = await state.workers.pollers(
            client, state.settings.temporal_task_queue, rpc_timeout=CHECK_TIMEOUT
        )
    except Exception as error:  # whatever the failure, the answer is "unavailable"
        log.warning("task queue health check failed: %r", error)
        return UNAVAILABLE
    return OK if pollers else NO_POLLERS


def _status(database: str, temporal: str, task_queue: str) -> str:
    if database != OK or temporal != OK:
        return UNAVAILABLE
    return OK if task_queue == OK else DEGRADED


@router.get(
    "/health",
    response_model=schemas.HealthOut,
    responses={503: {"model": schemas.HealthOut, "description": "a dependency is down"}},
    summary="Health · 健康检查",
)
async def health(state: Annotated[AppState, Depends(app_state)]) -> JSONResponse:
    """Anyone. A real round trip to the database and to Temporal, each bounded in time: 200
    when both answer, else 503 naming the failing part. `task_queue` is `no_pollers` when no
    worker has polled the orders' task queue lately: the status is then `degraded`, still
    200 (the API serves reads; a change answers 503 `not_accepted` within seconds)."""
    database, temporal, task_queue = await asyncio.gather(
        _database(state), _temporal(state), _task_queue(state)
    )
    status = _status(database, temporal, task_queue)
    body = schemas.HealthOut(
        status=status, database=database, temporal=temporal, task_queue=task_queue
    )
    return JSONResponse(body.model_dump(), status_code=503 if status == UNAVAILABLE else 200)
