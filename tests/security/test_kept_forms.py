"""What a refused page form keeps for its page.

Threat: the cookie that carries a refused form's values and errors to the page it redirects
to (post/redirect/get) is written by an attacker to make the site show words of theirs,
carried from one person's browser to another's, or holds a bank card number in clear.

Control: the cookie is signed with the site's secret and bound to the sign-in and to the
page it is for (anything else shows nothing), lives a minute and is cleared by the page
that shows it; a card number rides sealed with the card cipher.
"""

from __future__ import annotations

import base64
import zlib
from http.cookies import SimpleCookie
from types import SimpleNamespace

import httpx
from starlette.requests import Request

from api.web.kept_forms import CHECK_THE_FORM, refused
from api.web.kept_forms import MAX_COOKIE_CHARS as KEPT_COOKIE_LIMIT
from api.web.plumbing import FLASH_COOKIE, KEPT_FORM_COOKIE, decode_flashes
from tests.support.http_api import (
    Api,
    placed_jd_order,
    refund_chosen,
    refused_back_to,
    signed_in_pages,
)
from tests.support.samples import ENTERPRISE_REFUND_FORM, PROFILE, unique

BAD_ADDRESS = {"mobile": "139", "postcode": "200120", "address": "上海市浦东新区峨山路91弄"}


def _kept_cookie(page: httpx.Response) -> str:
    """The kept-form cookie the refused post's redirect set."""
    value = page.history[0].cookies.get(KEPT_FORM_COOKIE)
    assert value, "the refusal kept nothing for its page"
    return value


def _readable(cookie: str) -> str:
    """The cookie's payload as anyone who reads it sees it (it is signed, not secret)."""
    body = cookie.partition(".")[0]
    return zlib.decompress(base64.urlsafe_b64decode(body.encode())).decode()


async def _refused_address(buyer: httpx.AsyncClient) -> tuple[str, str]:
    name = unique("留")
    page = await buyer.post("/my/addresses", data=BAD_ADDRESS | {"name": name})
    assert refused_back_to(page, "/my/addresses") and f'value="{name}"' in page.text
    return name, _kept_cookie(page)


async def test_kept_form_is_shown_once(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    name, _ = await _refused_address(buyer)

    again = await buyer.get("/my/addresses")

    assert name not in again.text and "field-error" not in again.text


async def test_kept_form_of_another_sign_in_shows_nothing(api: Api) -> None:
    victim = await signed_in_pages(api, "zhangsan")
    name, cookie = await _refused_address(victim)
    other = await signed_in_pages(api, "zhangsan")  # the same account, another sign-in

    other.cookies.set(KEPT_FORM_COOKIE, cookie)
    page = await other.get("/my/addresses")

    assert page.status_code == 200 and name not in page.text and "field-error" not in page.text


async def test_altered_or_forged_kept_form_shows_nothing(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    name, cookie = await _refused_address(buyer)
    body, _, signature = cookie.partition(".")
    forged_text = _readable(cookie).replace(name, "请致电 400-000-0000 领取退款")
    forged_body = base64.urlsafe_b64encode(zlib.compress(forged_text.encode())).decode()

    for value in (f"{forged_body}.{signature}", f"{body}.{'0' * len(signature)}", body):
        buyer.cookies.set(KEPT_FORM_COOKIE, value)
        page = await buyer.get("/my/addresses")
        assert "400-000-0000" not in page.text and name not in page.text
        assert "field-error" not in page.text


async def test_kept_form_for_another_page_shows_nothing_there(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    name, cookie = await _refused_address(buyer)

    buyer.cookies.set(KEPT_FORM_COOKIE, cookie)
    page = await buyer.get("/my/account")

    assert name not in page.text and "field-error" not in page.text


async def test_refused_refund_form_keeps_the_card_number_sealed_in_its_cookie(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    no = await refund_chosen(api)
    card_no = "6222020200112233445"

    page = await buyer.post(
        f"/my/orders/{no}/refund",
        data=ENTERPRISE_REFUND_FORM | {"card_no": card_no, "account_name": ""},
    )

    assert refused_back_to(page, f"/my/orders/{no}/refund")
    assert "请填写" in page.text and f'value="{card_no}"' in page.text  # typed, kept
    cookie = _kept_cookie(page)
    assert card_no not in _readable(cookie) and card_no[-8:] not in _readable(cookie)
    assert ENTERPRISE_REFUND_FORM["bank"] in _readable(cookie)  # the rest is readable


async def test_a_form_typed_past_what_a_cookie_holds_still_shows_its_errors(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    # Text that hardly compresses, every field full to its limit: far past a cookie's 4 KB.
    typed = {
        name: "".join(chr(0x4E00 + (n * 7919 + i * 104729) % 20000) for i in range(200))
        for n, name in enumerate(("shop_name", "seller_nick", "baison_staff", "reminder_name",
                                  "contract_name", "service_market_order_no", "remark"))
    }  # fmt: skip

    page = await buyer.post(
        "/shop/JD0001/checkout",
        data=typed
        | {"module_codes": "ERP", "reminder_mobile": "123", "agreement_accepted": "true"},
    )

    assert refused_back_to(page, "/shop/JD0001/checkout")
    assert len(_kept_cookie(page)) <= KEPT_COOKIE_LIMIT
    assert "请输入正确的11位手机号" in page.text  # the errors still beside their fields
    assert typed["remark"] not in page.text  # only the values gave way


async def test_an_action_reason_typed_past_what_a_cookie_holds_still_shows_its_error(
    api: Api,
) -> None:
    reviewer = await signed_in_pages(api, "bmp")
    no = await placed_jd_order(api)
    # A reason far past its 500 characters, of text that hardly compresses.
    reason = "".join(chr(0x4E00 + (i * 104729) % 20000) for i in range(3000))

    page = await reviewer.post(f"/admin/orders/{no}/return", data={"reason": reason})

    assert refused_back_to(page, f"/admin/orders/{no}")
    assert len(_kept_cookie(page)) <= KEPT_COOKIE_LIMIT
    assert "field-error" in page.text and reason not in page.text


async def test_a_kept_form_cookie_of_any_characters_shows_the_page_without_it(api: Api) -> None:
    """A cookie planted from a neighbouring site may hold anything: the page still shows."""
    buyer = await signed_in_pages(api, "zhangsan")

    signed_in = "; ".join(f"{name}={value}" for name, value in buyer.cookies.items())
    for value in ("é.é", "x.签名", "é"):
        cookie = f"{signed_in}; {KEPT_FORM_COOKIE}={value}".encode()  # as bytes: not ASCII
        page = await buyer.get("/my/addresses", headers={b"Cookie": cookie})
        assert page.status_code == 200 and "field-error" not in page.text


async def test_a_profile_typed_past_what_a_cookie_holds_still_opens_with_its_errors(
    api: Api,
) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    long_text = "".join(chr(0x4E00 + (i * 104729) % 20000) for i in range(1500))

    page = await buyer.post(
        "/my/profiles",
        data=PROFILE | {"title": long_text, "recipient_address": long_text[::-1]},
    )

    assert refused_back_to(page, "/my/profiles")
    assert len(_kept_cookie(page)) <= KEPT_COOKIE_LIMIT
    assert "field-error" in page.text and long_text not in page.text


def test_a_refusal_whose_errors_alone_do_not_fit_is_said_above_the_page(api: Api) -> None:
    app = SimpleNamespace(state=SimpleNamespace(shop_orders=SimpleNamespace(settings=api.settings)))
    request = Request({"type": "http", "app": app, "headers": [], "path": "/my/profiles"})
    # Errors no form of the site writes: text that hardly compresses, past a cookie's 4 KB.
    errors = {f"f{n}": "".join(chr(0x4E00 + (n * 7919 + i) % 20000) for i in range(300))
              for n in range(8)}  # fmt: skip

    for flash in ({}, {"err": ""}):
        answer = refused(request, "/my/profiles", errors=errors, **flash)
        cookies = SimpleCookie()
        for header in answer.headers.getlist("set-cookie"):
            cookies.load(header)
        assert answer.status_code == 303 and KEPT_FORM_COOKIE not in cookies
        assert decode_flashes(cookies[FLASH_COOKIE].value) == [("error", CHECK_THE_FORM)]


async def test_a_checkout_posted_with_a_profile_id_not_a_number_comes_back_refused(
    api: Api,
) -> None:
    buyer = await signed_in_pages(api, "leiliang")

    for posted in ("第一张", "9" * 5000):
        page = await buyer.post(
            "/shop/JD0001/checkout",
            data={"module_codes": "ERP", "invoice_profile_id": posted, "agreement_accepted": "1"},
        )

        assert refused_back_to(page, "/shop/JD0001/checkout")
        assert "field-error" in page.text


async def test_an_order_edit_posted_with_ids_not_numbers_comes_back_refused(api: Api) -> None:
    """修改信息 with a chosen profile or address that is no number (a crafted post): refused
    beside the form, not a 500."""
    no = await placed_jd_order(api)
    reviewer = await api.login("bmp")
    returned = api.http.post(
        f"/api/admin/orders/{no}/return", json={"reason": "店铺名称有误"}, headers=reviewer
    )
    assert (await returned).status_code == 200
    buyer = await signed_in_pages(api, "leiliang")

    for posted in ({"invoice_profile_id": "第一张"}, {"address_choice": "²"},
                   {"invoice_profile_id": "9" * 5000}, {"address_choice": "9" * 5000}):  # fmt: skip
        page = await buyer.post(f"/my/orders/{no}/edit", data={"shop_name": "店"} | posted)
        assert refused_back_to(page, f"/my/orders/{no}/edit"), page.text
