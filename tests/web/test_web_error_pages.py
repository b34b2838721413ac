"""A browser that meets an error gets a page in the site's layout, in Chinese; a program
calling the same address gets problem+json."""

from __future__ import annotations

import httpx

from api.app import create_app
from tests.support.http_api import Api, signed_in_pages

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_an_unknown_page_is_a_404_page_in_the_sites_layout(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/no/such/page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text and "页面或资源不存在" in page.text
    # The site's header with the signed-in buyer, and a way back.
    assert "买家中心" in page.text and 'href="/my/orders"' in page.text


async def test_an_unknown_page_for_someone_signed_out_offers_the_sign_in(api: Api) -> None:
    page = await api.http.get("/nothing-here", headers=BROWSER)
    assert page.status_code == 404 and 'href="/login"' in page.text


async def test_the_api_answers_problem_json_even_to_a_browser(api: Api) -> None:
    answer = await api.http.get("/api/nothing-here", headers=BROWSER)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "页面或资源不存在"


async def test_a_program_asking_a_page_address_gets_problem_json(api: Api) -> None:
    answer = await api.http.get("/nothing-here", headers={"Accept": "application/json"})
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_wrong_method_on_a_page_is_a_405_page(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.put("/shop", headers=BROWSER)
    assert page.status_code == 405 and "操作方式不正确" in page.text


async def test_every_page_names_a_favicon_that_is_served(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/my/orders")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    icon = await buyer.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


async def test_a_refused_page_post_is_a_403_page_for_a_browser(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    del buyer.headers["X-CSRF-Token"]  # a form that did not come from this site's page

    page = await buyer.post("/my/addresses", data={"name": "王五"}, headers=BROWSER)

    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "无权访问" in page.text and "页面已过期或不是来自本站，请刷新页面后重试" in page.text
    assert "买家中心" in page.text  # in the site's layout


async def test_a_page_that_fails_unexpectedly_is_a_500_page_that_tells_nothing_inside(
    api: Api,
) -> None:
    app = create_app(api.settings, temporal=api.temporal)

    @app.get("/broken-page")
    async def broken_page() -> None:
        raise RuntimeError("secret detail of a failure")

    # Starlette raises the error again after answering it (for servers to log); the
    # answer is what a browser or a program gets.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        page = await client.get("/broken-page", headers=BROWSER)
        program = await client.get("/broken-page", headers={"Accept": "application/json"})

    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "系统出错了" in page.text and "系统内部错误" in page.text
    assert 'href="/login"' in page.text  # the site's layout, with a way on
    assert "secret detail" not in page.text
    assert program.status_code == 500
    assert program.headers["content-type"] == "application/problem+json"
    assert "secret detail" not in program.text
