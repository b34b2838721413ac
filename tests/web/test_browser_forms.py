"""Every form of the pages, sent empty and then with wrong input, in Chromium: each error
is Chinese (no word in Latin letters but the allowed codes), stands beside the field it
concerns (inside that field's box), and what was typed is still there (not the file input,
not a password). The browser's own required-field checks are switched off on the form
(``noValidate``) so the server's answer is what is seen: a page must hold on its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, Request, Response, expect

from tests.support import jd_walk
from tests.support.browser import assert_accessible, person
from tests.support.http_api import Api, ok, placed_jd_order, refund_applied, refund_chosen
from tests.support.samples import PROFILE, REVIEWER, unique

pytestmark = pytest.mark.e2e

# What may stand in Latin letters in a message: codes, numbers and names of formats.
ALLOWED = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|KP_\d+_\d+|BS-ZX\d+|TK\d+|SM\w+"
    r"|\b(?:JSON|PDF|JPEG|JPG|PNG|CSV|NICK|AppKey|RMB|MB|KB|E3|ERP)\b"
)
LATIN_WORD = re.compile(r"[A-Za-z]+")
SHOWN_ERRORS = ".field-error:visible, .flash.error:visible"


async def errors_are_chinese(page: Page) -> list[str]:
    """The errors the page shows; fails on a Latin-letter word outside ``ALLOWED``."""
    shown = [text.strip() for text in await page.locator(SHOWN_ERRORS).all_inner_texts()]
    for text in shown:
        words = LATIN_WORD.findall(ALLOWED.sub(" ", text))
        assert not words, f"{page.url}: {text!r} shows {words}"
    return shown


async def errors_beside(page: Page, names: list[str]) -> None:
    """Each named field has an error inside its own box (the field's wrapper)."""
    placed = await page.evaluate(
        """names => names.filter(name => ![...document.querySelectorAll(`[name="${name}"]`)]
            .some(input => {
                const box = input.closest(".action-field, div, p, fieldset");
                const error = box && box.querySelector(".field-error");
                return error && error.offsetParent !== null;
            }))""",
        names,
    )
    shown = await page.locator(SHOWN_ERRORS).all_inner_texts()
    assert not placed, f"{page.url}: no error beside {placed}; shown: {shown}"


async def still_typed(page: Page, typed: dict[str, str]) -> None:
    for name, value in typed.items():
        boxes = page.locator(f"[name={name}]")
        values = [await box.input_value() for box in await boxes.all()]
        assert value in values, f"{page.url}: {name} holds {values}, not {value!r}"


async def refused(
    page: Page,
    form: Locator,
    typed: dict[str, str],
    errors_on: list[str],
    *,
    button: str = "button[type=submit], button:not([type])",
    files: dict[str, Path] | None = None,
    redirected: bool = True,
) -> list[str]:
    """Types ``typed`` into ``form`` (with ``files`` chosen), sends it and checks the
    refusal: errors beside ``errors_on``, in Chinese, the typed values kept; the errors.

    Unless told otherwise (the sign-in form), the refusal is a redirect to the form's page
    (post/redirect/get): a reload then posts nothing and shows a clean form, the errors and
    values having been shown once."""
    await expect(form).to_have_count(1)
    await form.evaluate(
        "f => { f.noValidate = true; const d = f.closest('details'); if (d) d.open = true; }"
    )
    kept = dict(typed)
    for name, value in typed.items():
        field = form.locator(f"[name={name}]").first
        await field.evaluate("f => { const d = f.closest('details'); if (d) d.open = true; }")
        if await field.get_attribute("type") == "password" or not value:
            kept.pop(name)  # a password is never sent back to the page
        if await field.evaluate("f => f.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    for name, path in (files or {}).items():
        await form.locator(f"input[type=file][name={name}]").set_input_files(str(path))
    async with page.expect_navigation() as navigation:
        await form.locator(button).first.click()
    shown = await errors_are_chinese(page)
    assert shown, f"{page.url}: nothing says what is wrong"
    await errors_beside(page, errors_on)
    await still_typed(page, kept)
    await assert_accessible(page)
    if redirected:
        await shown_once_after_a_redirect(page, await navigation.value)
    return shown


async def shown_once_after_a_redirect(page: Page, answer: Response | None) -> None:
    """The refused post was answered with a 303 to a page fetched with GET; reloading it
    sends no POST and shows no error any more."""
    assert answer is not None and answer.request.method == "GET", f"{page.url} is a post's answer"
    post = answer.request.redirected_from
    assert post is not None and post.method == "POST", f"{page.url} came from no redirect"
    redirect = await post.response()
    assert redirect is not None and redirect.status == 303, f"{post.url} did not redirect"
    posts: list[str] = []

    def count(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url)

    page.on("request", count)
    await page.reload()
    page.remove_listener("request", count)
    assert not posts, f"reloading {page.url} posted again: {posts}"
    await expect(page.locator(SHOWN_ERRORS)).to_have_count(0)


def blank(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, "")


async def test_sign_in_form(e2e: Api, browser: Browser) -> None:
    visitor = await person(browser, f"http://127.0.0.1:{e2e.settings.api_port}", "-", sign_in=False)
    page = visitor.page
    await visitor.open("/login")
    # Refused in place (401/403/429 say why to programs too; a reload only fails again).
    await refused(page, page.locator("form[action='/login']"), blank("username", "password"),
                  ["username", "password"], redirected=False)  # fmt: skip
    # A wrong password is the pair's refusal (which one is wrong is not said): above the form.
    await visitor.open("/login")
    form = page.locator("form[action='/login']")
    await form.locator("#username").fill("leiliang")
    await form.locator("#password").fill("not-the-password")
    await form.locator("button").click()
    await expect(page.locator(".flash.error")).to_have_text("账号或密码错误")
    await errors_are_chinese(page)
    await expect(page.locator("#username")).to_have_value("leiliang")
    await page.context.close()


SUPPLEMENTARY = ["service_market_order_no", "shop_name", "seller_nick", "baison_staff",
                 "reminder_name", "reminder_mobile", "reminder_email"]  # fmt: skip
PROFILE_TEXT = ["title", "taxpayer_id", "recipient_name", "recipient_mobile", "recipient_address"]
GOOD_ORDER = {"service_market_order_no": "SM123", "shop_name": "表单店", "seller_nick": "5432",
              "baison_staff": "001", "reminder_name": "李雷", "reminder_mobile": "13800138000",
              "reminder_email": "l123@example.com"}  # fmt: skip


async def test_buyer_forms(e2e: Api, browser: Browser, tmp_path: Path) -> None:
    buyer_headers = await e2e.login("leiliang")
    await e2e.profile(buyer_headers)
    reviewer = await e2e.login(REVIEWER.username)
    returned = await placed_jd_order(e2e, shop_name=unique("表单打回店"))
    reason = {"reason": "店铺名称有误"}
    await ok(e2e.http.post(f"/api/admin/orders/{returned}/return", json=reason, headers=reviewer))
    choosing = await refund_chosen(e2e, shop_name=unique("表单退款店"))
    order = await ok(e2e.http.get(f"/api/orders/{choosing}", headers=buyer_headers))
    [invoice] = [i["invoice_app_no"] for i in order["invoices"] if i["status"] == "applied"]
    path = f"/api/admin/invoices/{invoice}/return"
    await ok(e2e.http.post(path, json={"reason": "抬头有误"}, headers=reviewer))

    buyer = await person(browser, f"http://127.0.0.1:{e2e.settings.api_port}", "leiliang")
    page = buyer.page

    # 店铺订购结算: the order's fields, then the new profile inside it, then a saved one's edit.
    await buyer.open("/shop/JD0001/checkout?module=ERP")
    checkout = page.locator("form[action='/shop/JD0001/checkout']")
    await refused(page, checkout, blank(*SUPPLEMENTARY), [*SUPPLEMENTARY, "agreement_accepted"],
                  button="button.big")  # fmt: skip
    wrong = GOOD_ORDER | {"reminder_mobile": "12345", "reminder_email": "不是邮箱"}
    await refused(page, checkout, wrong, ["reminder_mobile", "reminder_email"], button="button.big")
    adding = page.locator("form[action='/shop/JD0001/checkout']")
    await refused(page, adding, blank(*PROFILE_TEXT) | {"shop_name": "保留的店名"}, PROFILE_TEXT,
                  button="button[formaction$='/checkout/profile']")  # fmt: skip
    await refused(page, adding, PROFILE | {"taxpayer_id": "123", "recipient_mobile": "123"},
                  ["taxpayer_id", "recipient_mobile"], button="button[formaction$='/checkout/profile']")  # fmt: skip
    # A saved profile's edit belongs to the order's form: the order's fields survive it.
    edit = page.locator("button[formaction*='/checkout/profile/']").first
    prefix = f"profile_{(await edit.get_attribute('formaction') or '').rsplit('/', 1)[-1]}_"
    typed = {f"{prefix}taxpayer_id": "12", f"{prefix}recipient_name": "改过的名字",
             "shop_name": "保留的店名"}  # fmt: skip
    await refused(page, page.locator("section.content"), typed, [f"{prefix}taxpayer_id"],
                  button="button[formaction*='/checkout/profile/']")  # fmt: skip
    await page.locator(f"[name={prefix}taxpayer_id]").evaluate(
        "f => f.closest('details').open = true"
    )
    await page.fill(f"[name={prefix}taxpayer_id]", "91310000MA1FL4CT3U")
    await page.fill("#shop_name", "保留的店名")
    await page.locator("button[formaction*='/checkout/profile/']").first.click()
    await expect(page.locator(".flash.ok")).to_have_text("发票信息已更新")
    await expect(page.locator("#shop_name")).to_have_value("保留的店名")
    # Enter in one of the order's fields sends the order (its default button), not an edit.
    await page.locator("#shop_name").press("Enter")
    await expect(page).to_have_url(re.compile(r"/shop/JD0001/checkout\?module=ERP$"))
    await expect(page.locator("#reminder_mobile + .field-error")).to_be_visible()

    # 修改信息 of a returned order.
    await buyer.open(f"/my/orders/{returned}/edit")
    edit = page.locator(f"form[action='/my/orders/{returned}/edit']")
    await refused(page, edit, blank(*SUPPLEMENTARY), SUPPLEMENTARY)
    await refused(page, edit, GOOD_ORDER | {"reminder_mobile": "1"}, ["reminder_mobile"])

    # 退款申请: empty, then a wrong card number with a file that is no PDF.
    await buyer.open(f"/my/orders/{choosing}/refund")
    refund = page.locator(f"form[action='/my/orders/{choosing}/refund']")
    account = ["account_name", "bank", "branch", "card_no"]
    await refused(page, refund, blank(*account), account)
    fake = tmp_path / "证明.pdf"
    fake.write_bytes(b"not a pdf at all")
    typed = {"account_name": "快乐贸易有限公司", "bank": "中国工商银行", "branch": "上海陆家嘴支行",
             "card_no": "62220212abc"}  # fmt: skip
    await refused(page, refund, typed, ["card_no"], files={"proof": fake})
    await expect(page.locator("#proof")).to_have_value("")

    # 发票修改 of the returned invoice.
    await buyer.open(f"/my/invoices/{invoice}/edit")
    correcting = page.locator(f"form[action='/my/invoices/{invoice}/edit']")
    await refused(page, correcting, blank(*PROFILE_TEXT), PROFILE_TEXT)
    await refused(page, correcting, {"taxpayer_id": "abc", "recipient_mobile": "1"},
                  ["taxpayer_id", "recipient_mobile"])  # fmt: skip

    # 发票信息管理: a new profile and a saved one's edit.
    await buyer.open("/my/profiles")
    await refused(
        page, page.locator("form[action='/my/profiles']"), blank(*PROFILE_TEXT), PROFILE_TEXT
    )
    await refused(page, page.locator("form[action='/my/profiles']"),
                  PROFILE | {"recipient_mobile": "999"}, ["recipient_mobile"])  # fmt: skip
    editing = page.locator("form[action^='/my/profiles/']:not([action$='/delete'])").first
    await refused(page, editing, {"title": "", "recipient_name": "王五"}, ["title"])

    # 收货地址: a new one.
    await buyer.open("/my/addresses")
    address = ["name", "mobile", "postcode", "address"]
    adding = page.locator("form[action='/my/addresses']")
    await refused(page, adding, blank(*address), address)
    await refused(page, adding, {"name": "韩梅梅", "mobile": "139", "postcode": "20012",
                                 "address": "上海市浦东新区峨山路91弄120号"}, ["mobile", "postcode"])  # fmt: skip

    # 账户信息 and its password.
    await buyer.open("/my/account")
    account_form = page.locator("form[action='/my/account']")
    await refused(page, account_form, {"contact_name": "韩梅梅", "mobile": "12345", "email": "不是邮箱"},
                  ["mobile", "email"])  # fmt: skip
    password = page.locator("form[action='/my/account/password']")
    await refused(page, password, blank("current_password", "new_password", "confirm_password"),
                  ["current_password", "new_password"])  # fmt: skip
    await refused(page, password, {"current_password": "wrong-password", "new_password": "abc",
                                   "confirm_password": "abd"}, ["new_password"])  # fmt: skip
    await refused(page, password, {"current_password": "wrong-password",
                                   "new_password": "a-long-new-password",
                                   "confirm_password": "a-long-new-password"}, ["current_password"])  # fmt: skip
    await page.context.close()


async def test_back_office_and_finance_forms(e2e: Api, browser: Browser, tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{e2e.settings.api_port}"
    placed = await placed_jd_order(e2e, shop_name=unique("表单审核店"))
    applied = await refund_applied(e2e, shop_name=unique("表单退款审核店"))
    await jd_walk.record_settlement(e2e.send, applied["order_no"])
    refund_id = applied["refund"]["refund_id"]
    [invoice] = [i["invoice_app_no"] for i in applied["invoices"] if i["status"] == "applied"]
    agreed = await jd_walk.refund_agreed(e2e.send, await placed_jd_order(e2e))

    reviewer = await person(browser, base_url, "bmp")
    page = reviewer.page
    await reviewer.open(f"/admin/orders/{placed}")
    for action, typed in (("return", {"reason": ""}), ("void", {"reason": ""}),
                          ("approve", {"platform_amount_yuan": "999999"}),
                          ("approve", {"platform_amount_yuan": "-3"})):  # fmt: skip
        form = page.locator(f"form[action='/admin/orders/{placed}/{action}']")
        await refused(page, form, typed, list(typed))

    await reviewer.open(f"/admin/refunds/{refund_id}")
    returning = page.locator(f"form[action='/admin/refunds/{refund_id}/return']")
    await refused(page, returning, {"reason": ""}, ["reason"])

    await reviewer.open(f"/admin/orders/{applied['order_no']}")
    for action, typed in (("issue", {"invoice_number": ""}), ("return", {"reason": ""})):
        form = page.locator(f"form[action='/admin/invoices/{invoice}/{action}']")
        await refused(page, form, typed, list(typed))
    issuing = page.locator(f"form[action='/admin/invoices/{invoice}/issue']")
    await issuing.locator("input[name=invoice_number]").fill(unique("FP"))
    await issuing.locator("button").click()
    await expect(page.locator(".flash.ok")).to_contain_text("已开票")
    shipping = page.locator(f"form[action='/admin/invoices/{invoice}/ship']")
    await refused(page, shipping, {"courier": "中通", "tracking_no": ""}, ["tracking_no"])
    await page.context.close()

    finance = await person(browser, base_url, "finance")
    page = finance.page
    await finance.open("/finance")
    paying = page.locator(f"form[action='/finance/refunds/{agreed['refund_id']}/payout']")
    if not await paying.count():
        pytest.fail("the agreed refund is not on finance's first page")
    await refused(page, paying, {"bank_reference": ""}, ["bank_reference"])
    batch = page.locator("form[action='/finance/batch']")
    await refused(page, batch, {}, ["file"])
    bad = tmp_path / "回单.csv"
    bad.write_text("这不是银行回单\n1,2\n", encoding="utf-8")
    await refused(page, batch, {}, ["file"], files={"file": bad})
    await page.context.close()
