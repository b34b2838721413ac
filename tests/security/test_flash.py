"""Flash messages.

Threat: a link makes the site say anything (`?ok=`/`?err=` rendered any text).

Control: flash messages carry codes or signed values only; unknown or tampered ones show
nothing.

Page flashes cannot carry text chosen by a link: ``?ok=``/``?err=`` show nothing; the
outcome of an action (a workflow's refusal sentence too) reaches the next page once, through
a short-lived cookie only this site's answers set.
"""

from __future__ import annotations

from urllib.parse import quote

from api.web.plumbing import FLASH_COOKIE, decode_flashes, encode_flashes
from tests.support.http_api import Api
from tests.support.http_api import signed_in_pages as sign_in

PHISHING = "您的账户已冻结，请致电 400-000-0000 并提供银行卡号"


async def test_open_page_with_ok_or_err_in_the_link_shows_nothing(api: Api) -> None:
    buyer = await sign_in(api, "leiliang")

    page = await buyer.get(f"/my/orders?ok={quote(PHISHING)}&err={quote(PHISHING)}")

    assert page.status_code == 200
    assert PHISHING not in page.text and 'class="flash' not in page.text


async def test_refused_action_shows_the_refusal_sentence_once(api: Api) -> None:
    headers = await api.login("leiliang")
    order = await api.place(headers)
    no = order["order_no"]
    buyer = await sign_in(api, "leiliang")

    after = await buyer.post(f"/my/orders/{no}/confirm-receipt")
    reload = await buyer.get(str(after.url))

    assert after.status_code == 200
    assert f"订单 {no} 当前为「付款成功」，确认收货需要「已审核」" in after.text
    assert "flash error" in after.text
    assert "确认收货需要" not in reload.text


async def test_redirect_with_outcome_sets_a_short_lived_httponly_cookie(api: Api) -> None:
    buyer = await sign_in(api, "leiliang")
    buyer.follow_redirects = False

    answer = await buyer.get("/admin/orders")  # not for buyers: back home, with a flash

    assert answer.status_code == 303 and answer.headers["location"] == "/my/orders"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{FLASH_COOKIE}=") and "HttpOnly" in cookie
    assert "Max-Age=60" in cookie and "samesite=lax" in cookie.lower()
    value = cookie.split(";")[0].split("=", 1)[1]
    assert decode_flashes(value) == [("error", "当前账号无权访问该页面")]


def test_decode_flash_cookie_not_written_by_the_site_shows_nothing() -> None:
    assert decode_flashes("not base64 json!") == []
    assert decode_flashes(encode_flashes([("<script>", "x")])) == []
    assert decode_flashes(encode_flashes([("ok", "已保存")])) == [("ok", "已保存")]
