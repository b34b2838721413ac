"""Developer and staff routes.

Threat: the OpenAPI document, its docs and the metrics are public in production.

Control: in production /docs and /openapi.json answer 404 and /metrics only staff;
development keeps them open.

The contract, its docs and the metrics are for developers and staff: in production
nobody else reaches them; in development they stay open (the fuzz and access tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.security.apps import BUYER, REVIEWER, app_settings, serving, signed_in

DOCS = ["/openapi.json", "/docs", "/docs/oauth2-redirect"]


async def test_openapi_and_metrics_not_public_in_production(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = app_settings("production", tmp_path)
    async with serving(settings, session_maker) as http:
        for path in DOCS:
            for caller in ({}, await signed_in(settings, session_maker, REVIEWER)):
                assert (await http.get(path, headers=caller)).status_code == 404, path
        anonymous = await http.get("/metrics")
        buyer = await http.get("/metrics", headers=await signed_in(settings, session_maker, BUYER))
        staff = await http.get(
            "/metrics", headers=await signed_in(settings, session_maker, REVIEWER)
        )
    assert (anonymous.status_code, buyer.status_code) == (401, 403)
    assert "shop_orders_http_requests" not in anonymous.text + buyer.text
    assert staff.status_code == 200 and "shop_orders_http_requests_total" in staff.text


@pytest.mark.parametrize("path", [*DOCS, "/metrics"])
async def test_openapi_docs_and_metrics_stay_open_in_development(
    path: str, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with serving(app_settings("development", tmp_path), session_maker) as http:
        assert (await http.get(path)).status_code == 200
