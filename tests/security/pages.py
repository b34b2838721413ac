"""A signed-in page client, as a browser would hold one (cookies kept, redirects followed)."""

from __future__ import annotations

import httpx

from tests.api_harness import Api


async def sign_in(api: Api, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=api.http._transport, base_url="http://api", follow_redirects=True
    )
    page = await client.post("/login", data={"username": username, "password": "demo"})
    assert page.status_code == 200, page.text
    return client
