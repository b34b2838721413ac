"""How many fields a page form may carry: the checkout posts its saved invoice profiles'
edit fields with the order, so a buyer with many profiles must still be able to order; a
form past the limit is refused in Chinese, and nothing is placed."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx

from api.csrf import PAGE_FORM_MAX_FIELDS
from tests.support.http_api import Api, signed_in_pages
from tests.support.samples import ORDER_CONTACTS, PROFILE, unique

STARLETTE_DEFAULT_MAX_FIELDS = 1000


async def _post(buyer: httpx.AsyncClient, form: list[tuple[str, str]]) -> httpx.Response:
    """The checkout posted as a browser posts it (repeated names allowed)."""
    encoded = {"Content-Type": "application/x-www-form-urlencoded"}
    return await buyer.post("/shop/JD0001/checkout", content=urlencode(form), headers=encoded)


def _checkout_form(csrf: str, profile_id: str, extra_fields: int) -> list[tuple[str, str]]:
    fields = [
        ("csrf_token", csrf),
        ("module_codes", "ERP"),
        ("invoice_profile_id", profile_id),
        ("agreement_accepted", "true"),
        ("service_market_order_no", unique("SM")),
        ("shop_name", unique("字段")),
        *ORDER_CONTACTS.items(),
    ]
    # What a long list of saved profiles adds: each profile's edit inputs.
    return fields + [(f"profile_{n}_title", "抬头") for n in range(extra_fields)]


async def test_an_order_with_more_fields_than_starlettes_default_is_placed(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    headers = await api.login("zhangsan")
    profile_id = str(await api.profile(headers, title=PROFILE["title"]))
    form = _checkout_form(
        buyer.headers["X-CSRF-Token"], profile_id, STARLETTE_DEFAULT_MAX_FIELDS + 200
    )
    answer = await _post(buyer, form)
    assert answer.status_code == 200, answer.text[:500]
    assert re.search(r"主订单号 BS-ZX\d{18}", answer.text), answer.text[-800:]


async def test_a_form_past_the_page_limit_is_refused_in_chinese_and_places_nothing(
    api: Api,
) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    before = await api.http.get("/api/orders", headers=await api.login("zhangsan"))
    form = _checkout_form(buyer.headers["X-CSRF-Token"], "1", PAGE_FORM_MAX_FIELDS)
    answer = await _post(buyer, form)
    assert answer.status_code == 400
    assert "请求格式不正确" in answer.text
    assert "Too many" not in answer.text
    after = await api.http.get("/api/orders", headers=await api.login("zhangsan"))
    assert after.json()["total"] == before.json()["total"]
