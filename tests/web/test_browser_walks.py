"""Every path of the guide walked to its end through the pages only, in headless Debian
Chromium against the real stack, each role signed in through the sign-in page: JD (退款 and
开票), Taobao (开票 with 发票打回/发票修改), Douyin (不退款), a void (作废), and the buyer's user
center. Each step asserts what the person sees and leaves a screenshot
``<path>-<nn>-<step>.png`` (desktop width) in test-artifacts/browser/; the last page of each
path is also kept at a phone's 375 px."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.passwords import hash_password
from domain.statuses import Role
from tests.support.browser import PHONE, Person, person, tab_to
from tests.support.http_api import Api
from tests.support.samples import PDF, PROFILE, REFUND_ACCOUNT, unique

pytestmark = pytest.mark.e2e

# Sends a person to sign in: the walks' people, closed at the end of the test.
SignIn = Callable[..., Awaitable[Person]]


@pytest.fixture
async def sign_in(e2e: Api, browser: Browser) -> AsyncIterator[SignIn]:
    base_url = f"http://127.0.0.1:{e2e.settings.api_port}"
    people: list[Person] = []

    async def signed_in(name: str, password: str = "demo") -> Person:
        someone = await person(browser, base_url, name, password)
        people.append(someone)
        return someone

    yield signed_in
    for someone in people:
        await someone.page.context.close()


class Walk:
    """One path of the guide: numbers its screenshots in the order the steps are taken."""

    def __init__(self, name: str) -> None:
        self.name, self.steps = name, 0

    async def shot(self, someone: Person, step: str) -> None:
        self.steps += 1
        await someone.shot(f"{self.name}-{self.steps:02d}-{step}")

    async def phone_shot(self, someone: Person, step: str) -> None:
        """The same page on a 375 px wide screen, which it must fit."""
        desktop = someone.page.viewport_size
        await someone.page.set_viewport_size(PHONE)
        width = await someone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{someone.page.url} is {width}px wide on a phone"
        await self.shot(someone, f"{step}-phone")
        if desktop is not None:
            await someone.page.set_viewport_size(desktop)


async def turn_pages_to(someone: Person, wanted: Locator) -> None:
    """Turns a list's pages (下一页) until ``wanted`` shows: other tests' data shares the lists
    and some of it (time-skipped) sorts before this test's."""
    for _ in range(100):
        if await wanted.count():
            return
        following = someone.page.locator("a:has-text('下一页')")
        if not await following.count():
            break
        await following.click()
    raise AssertionError(f"not on any page of {someone.page.url}")


# --- what the buyer does -----------------------------------------------------------------


async def place_order(buyer: Person, code: str, shop_name: str) -> str:
    """店铺订购 from the catalog's card to 店铺订购结算 (an invoice profile added inline when
    the buyer has none); the main order number the page announces."""
    page = buyer.page
    await buyer.open("/shop?line=E3")
    await page.click(f"a[href='/shop/{code}']")
    await page.click("#next-step")
    await expect(page.get_by_role("heading", name="补充信息")).to_be_visible()
    if await page.locator("input[name=invoice_profile_id]").count() == 0:
        # 添加一个新开票 is part of the order's form, saved by its own button.
        adding = page.locator("details", has=page.locator("#new-profile-title"))
        await add_profile(adding, PROFILE)
        await expect(page.get_by_text("发票信息已保存")).to_be_visible()
    fields = {"service_market_order_no": unique("SM"), "shop_name": shop_name, "seller_nick": "5432",
              "baison_staff": "001", "reminder_name": "李雷", "reminder_mobile": "13800138000",
              "reminder_email": "l123@example.com"}  # fmt: skip
    for name, value in fields.items():
        await page.fill(f"#{name}", value)
    await page.check("input[name=agreement_accepted]")
    await page.click("button.big:has-text('店铺订购结算')")
    flash = page.locator(".flash.ok")
    await expect(flash).to_contain_text("订购成功")
    found = re.search(r"BS-ZX\d{18}", await flash.inner_text())
    assert found is not None
    await expect(page.locator(f"#row-{found.group(0)}")).to_contain_text("付款成功")
    return found.group(0)


async def add_profile(form: Locator, profile: dict[str, str]) -> None:
    """Fills and saves an invoice-profile form, or the checkout's fieldset of one (opening
    the ``details`` it is folded in)."""
    await form.evaluate("form => { const d = form.closest('details'); if (d) d.open = true; }")
    await expect(form.locator("input[name=title]")).to_be_visible()
    for name, value in profile.items():
        if name == "invoice_type":
            await form.locator("select[name=invoice_type]").select_option(value)
        else:
            await form.locator(f"input[name={name}]").fill(value)
    await form.locator("button[type=submit]").first.click()


async def open_order(buyer: Person, order_no: str) -> Locator:
    """我的订单 with the order's 流水明细 open; its row."""
    await buyer.open(f"/my/orders?order_no={order_no}&expand={order_no}")
    return buyer.page.locator(f"#row-{order_no}")


async def invoices_of(buyer: Person, order_no: str) -> Locator:
    """发票信息 of one order; its invoice applications."""
    await buyer.open(f"/my/invoices?order_no={order_no}")
    return buyer.page.locator(".profile")


# --- what the back office does -----------------------------------------------------------


async def review(reviewer: Person, order_no: str) -> None:
    await reviewer.open(f"/admin/orders/{order_no}")
    await expect(reviewer.page.locator("h1")).to_contain_text(order_no)


async def approve(reviewer: Person, walk: Walk, order_no: str) -> None:
    """审核通过 from the order's page, without a platform amount."""
    await review(reviewer, order_no)
    await reviewer.page.click("text=审核通过")
    await expect(reviewer.page.locator("h1 .status")).to_have_text("已审核")
    await walk.shot(reviewer, "approved")


async def issue_and_ship(reviewer: Person, walk: Walk, order_no: str, amount: str) -> None:
    """开票 with a 发票号, then 寄送 with courier and tracking number, from the order's page."""
    page = reviewer.page
    await review(reviewer, order_no)
    waiting = page.locator(".profile", has=page.locator("form[action$='/issue']"))
    await expect(waiting).to_contain_text(amount)
    await expect(waiting).to_contain_text("已申请")
    found = re.search(r"KP_\d{6}_\d{8}", await waiting.inner_text())
    assert found is not None
    invoice = page.locator(".profile", has_text=found.group(0))
    await invoice.locator("input[name=invoice_number]").fill(unique("FP"))
    await invoice.locator("button:has-text('开票')").click()
    await expect(page.locator(".flash.ok")).to_contain_text("已开票")
    await expect(invoice).to_contain_text("已开票")
    await walk.shot(reviewer, "invoice-issued")
    await invoice.locator("input[name=courier]").fill("中通")
    await invoice.locator("input[name=tracking_no]").fill("123123123")
    await invoice.locator("button:has-text('寄送')").click()
    await expect(page.locator(".flash.ok")).to_contain_text("已寄送，已邮件通知买家")
    await expect(invoice).to_contain_text("已寄送")
    await expect(invoice).to_contain_text("中通 123123123")
    await walk.shot(reviewer, "invoice-shipped")


async def buyer_sees_shipped(buyer: Person, walk: Walk, order_no: str, amount: str) -> None:
    shipped = (await invoices_of(buyer, order_no)).filter(has_text="已寄送")
    await expect(shipped).to_contain_text(amount)
    await expect(shipped).to_contain_text("快递公司：中通 123123123")
    await walk.shot(buyer, "buyer-sees-shipped")
    await walk.phone_shot(buyer, "buyer-sees-shipped")


# --- the paths ---------------------------------------------------------------------------


async def test_jd_refund_and_invoice_to_the_end(sign_in: SignIn, tmp_path: Path) -> None:
    """京东 (invoice_and_refund): RMB 2000 → invoice 1000 issued and shipped, refund 1000
    returned once for changes, corrected, agreed and paid out by finance."""
    walk = Walk("jd")
    buyer, reviewer, finance = [await sign_in(n) for n in ("leiliang", "bmp", "finance")]
    page = buyer.page

    order_no = await place_order(buyer, "JD0001", unique("京东店"))
    await walk.shot(buyer, "placed")

    await approve(reviewer, walk, order_no)

    row = await open_order(buyer, order_no)
    await expect(row).to_contain_text("已审核")
    await page.click("text=确认收货")
    await expect(page.locator(".flash.ok")).to_contain_text("已确认收货")
    await expect(row).to_contain_text("交易成功")
    await expect(page.locator("span.status.applied")).to_have_text("已申请")
    await expect(page.locator("span.status.pending")).to_have_text("未申请")
    await walk.shot(buyer, "receipt-confirmed")

    await page.click("form[action$='/refund-decision']:has(input[value=refund]) button")
    await expect(page.get_by_role("heading", name="退款申请")).to_be_visible()
    await expect(page.locator(".total")).to_have_text("RMB 1000.00")
    proof = tmp_path / "退款证明.pdf"
    proof.write_bytes(PDF)
    await page.check("input[name=refund_type][value=individual]")
    for name, value in REFUND_ACCOUNT.items():
        await page.fill(f"#{name}", value)
    async with page.expect_file_chooser() as chosen:
        await page.click("#proof")
    await (await chosen.value).set_files(str(proof))
    await walk.shot(buyer, "refund-form")
    await page.click("button[type=submit].big")
    await expect(page.locator(".flash.ok")).to_contain_text("退款申请已提交")
    refund_row = page.locator("tr", has_text=order_no)
    await expect(refund_row).to_contain_text("退款申请")
    await expect(refund_row).to_contain_text("RMB 1000.00")
    await walk.shot(buyer, "refund-applied")

    # Before the platform settled, the refund cannot be reviewed; the reviewer records it.
    await review(reviewer, order_no)
    await expect(reviewer.page.get_by_text("待平台与百胜结算后，才能审核退款申请")).to_be_visible()
    await expect(reviewer.page.locator("button:has-text('同意退款')")).to_have_count(0)
    await reviewer.page.click("text=记录平台结算")
    await expect(reviewer.page.locator(".flash.ok")).to_contain_text("已记录平台结算")
    await expect(reviewer.page.get_by_text("平台结算：已结算")).to_be_visible()
    await walk.shot(reviewer, "settlement-recorded")

    # 退款修改: returned to the buyer with a reason.
    returning = reviewer.page.locator("form[action^='/admin/refunds/'][action$='/return']")
    await returning.locator("input[name=reason]").fill("开户支行有误")
    await returning.locator("button").click()
    await expect(reviewer.page.locator(".flash.ok")).to_contain_text("已退回买家修改")
    await expect(reviewer.page.locator("h1 + p .status")).to_have_text("退款修改")
    await walk.shot(reviewer, "refund-returned")

    await buyer.open(f"/my/refunds?order_no={order_no}")
    await expect(refund_row).to_contain_text("退款修改")
    await refund_row.locator("a:has-text('修改')").click()
    await expect(page.get_by_text("退款修改原因：开户支行有误")).to_be_visible()
    await expect(page.locator("#account_name")).to_have_value(REFUND_ACCOUNT["account_name"])
    await page.fill("#branch", "上海张江支行")
    await walk.shot(buyer, "refund-correcting")
    await page.click("button[type=submit].big")
    await expect(page.locator(".flash.ok")).to_contain_text("退款申请已提交")
    await expect(refund_row).to_contain_text("退款申请")
    await walk.shot(buyer, "refund-corrected")

    await review(reviewer, order_no)
    await expect(reviewer.page.get_by_text("上海张江支行")).to_be_visible()
    await reviewer.page.click("button:has-text('同意退款')")
    await expect(reviewer.page.locator(".flash.ok")).to_contain_text("已同意退款，等待财务打款")
    await expect(reviewer.page.locator("h1 + p .status")).to_have_text("同意退款")
    await walk.shot(reviewer, "refund-agreed")

    # Finance pays it to the full card number only finance sees, and confirms the payout.
    await finance.open("/finance")
    waiting = finance.page.locator("tr", has_text=order_no)
    await turn_pages_to(finance, waiting)
    await expect(waiting).to_contain_text(REFUND_ACCOUNT["card_no"])
    await waiting.locator("input[name=bank_reference]").fill(unique("ICBC"))
    await walk.shot(finance, "payout-waiting")
    await waiting.locator("button:has-text('确认打款')").click()
    await expect(finance.page.locator(".flash.ok")).to_contain_text("已确认打款")
    await expect(waiting).to_have_count(0)
    await finance.page.click("text=打款台账")
    paid = finance.page.locator("tr", has_text=order_no)
    await turn_pages_to(finance, paid)
    await expect(paid).to_contain_text("RMB 1000.00")
    await walk.shot(finance, "payout-in-ledger")

    await buyer.open(f"/my/refunds?order_no={order_no}")
    await expect(refund_row).to_contain_text("已退款")
    await refund_row.locator("a:has-text('详情')").click()
    log = page.locator("table")
    for action in ("申请退款", "退款修改 开户支行有误", "同意退款", "已退款"):
        await expect(log).to_contain_text(action)
    await walk.shot(buyer, "refund-paid")

    # The invoice share: the pending slot was cancelled by 退款, the 1000 applied one issued.
    await issue_and_ship(reviewer, walk, order_no, "RMB 1000.00")
    await expect(reviewer.page.locator(".profile", has_text="已取消")).to_have_count(1)
    await buyer_sees_shipped(buyer, walk, order_no, "RMB 1000.00")
    await expect(page.locator(".profile", has_text="已取消")).to_have_count(1)


async def test_taobao_invoice_returned_corrected_and_shipped(sign_in: SignIn) -> None:
    """淘宝 (invoice_only): the whole amount invoiced at 确认收货; the reviewer 打回 the invoice
    info, the buyer corrects it (发票修改), the reviewer issues and ships it."""
    walk = Walk("taobao")
    buyer, reviewer = await sign_in("leiliang"), await sign_in("bmp")
    page = buyer.page

    order_no = await place_order(buyer, "JSFW0001", unique("淘宝店"))
    await walk.shot(buyer, "placed")

    await approve(reviewer, walk, order_no)

    row = await open_order(buyer, order_no)
    await expect(page.locator("form[action$='/refund-decision']")).to_have_count(0)
    await page.click("text=确认收货")
    await expect(row).to_contain_text("交易成功")
    await expect(page.locator("span.status.applied")).to_have_text("已申请")
    await walk.shot(buyer, "receipt-confirmed")

    await review(reviewer, order_no)
    returning = reviewer.page.locator("form[action^='/admin/invoices/'][action$='/return']")
    await returning.locator("input[name=reason]").fill("纳税人识别号有误")
    await returning.locator("button").click()
    await expect(reviewer.page.locator(".flash.ok")).to_contain_text("已打回，已邮件通知买家")
    await expect(reviewer.page.locator(".profile", has_text="RMB 2000.00")).to_contain_text("打回")
    await walk.shot(reviewer, "invoice-returned")

    invoice = (await invoices_of(buyer, order_no)).first
    await expect(invoice).to_contain_text("打回原因：纳税人识别号有误")
    await invoice.locator("a:has-text('发票修改')").click()
    await expect(page.get_by_role("heading", name=re.compile("发票修改"))).to_be_visible()
    await page.fill("input[name=taxpayer_id]", "91310000MA1FL4CT3U")
    await page.fill("input[name=recipient_name]", "李四")
    await walk.shot(buyer, "invoice-correcting")
    await page.click("button:has-text('确定')")
    await expect(page.locator(".flash.ok")).to_contain_text("发票信息已修改，已重新申请开票")
    await expect(invoice).to_contain_text("已申请")
    await expect(invoice).to_contain_text("91310000MA1FL4CT3U")
    await walk.shot(buyer, "invoice-corrected")

    await issue_and_ship(reviewer, walk, order_no, "RMB 2000.00")
    await buyer_sees_shipped(buyer, walk, order_no, "RMB 2000.00")
    await expect((await invoices_of(buyer, order_no)).first).to_contain_text("李四")


async def test_douyin_no_refund_is_invoiced_and_shipped(sign_in: SignIn) -> None:
    """抖店 (refund_only): no 确认收货; the buyer is offered 退款 / 不退款 at once, 不退款 makes
    the order 交易成功 and invoices the whole amount, which is issued and shipped."""
    walk = Walk("douyin")
    buyer, reviewer = await sign_in("leiliang"), await sign_in("bmp")
    page = buyer.page

    order_no = await place_order(buyer, "DY0001", unique("抖店"))
    await walk.shot(buyer, "placed")

    await approve(reviewer, walk, order_no)

    row = await open_order(buyer, order_no)
    await expect(page.locator("button:has-text('确认收货')")).to_have_count(0)
    await expect(page.get_by_text("重点备注：请关注订单是否需要退款")).to_be_visible()
    await walk.shot(buyer, "refund-choice")
    await page.click("form[action$='/refund-decision']:has(input[value=no_refund]) button")
    await expect(page.locator(".flash.ok")).to_contain_text("已选择不退款，已自动生成开票")
    await expect(row).to_contain_text("交易成功")
    await expect(page.get_by_text("退款选择：不退款")).to_be_visible()
    await expect(page.locator("form[action$='/refund-decision']")).to_have_count(0)
    await expect(page.locator("span.status.applied")).to_have_text("已申请")
    await walk.shot(buyer, "no-refund-chosen")

    await issue_and_ship(reviewer, walk, order_no, "RMB 2000.00")
    await buyer_sees_shipped(buyer, walk, order_no, "RMB 2000.00")


async def test_void_shows_the_buyer_a_failed_trade(sign_in: SignIn) -> None:
    """作废 by the reviewer with a reason: the buyer sees 交易失败 and why."""
    walk = Walk("void")
    buyer, reviewer = await sign_in("leiliang"), await sign_in("bmp")
    page = buyer.page

    order_no = await place_order(buyer, "JD0001", unique("作废店"))
    await walk.shot(buyer, "placed")

    await review(reviewer, order_no)
    voiding = reviewer.page.locator("form[action$='/void']")
    await voiding.locator("input[name=reason]").fill("重复下单")
    await voiding.locator("button").click()
    await expect(reviewer.page.locator(".flash.ok")).to_contain_text("已作废")
    await expect(reviewer.page.locator("h1 .status")).to_have_text("交易失败")
    await expect(reviewer.page.locator(".actions form")).to_have_count(0)
    await walk.shot(reviewer, "voided")

    await buyer.open(f"/my/orders?order_no={order_no}")
    await page.click(".tabs a:has-text('交易失败')")
    await expect(page.locator(".tabs a.on")).to_have_text("交易失败 (1)")
    row = page.locator(f"#row-{order_no}")
    await expect(row).to_contain_text("交易失败")
    await row.locator("a:has-text('流水明细')").click()
    await expect(page.get_by_text("作废原因：重复下单")).to_be_visible()
    await expect(page.locator(".actions form")).to_have_count(0)
    await walk.shot(buyer, "buyer-sees-failed")
    await walk.phone_shot(buyer, "buyer-sees-failed")


# --- the user center ---------------------------------------------------------------------


async def new_buyer(sessions: async_sessionmaker[AsyncSession], password: str) -> str:
    """A buyer account of its own, as operations create one: its password changes here,
    which would sign the shared demo buyers out of every other test."""
    username = unique("walk")
    async with sessions() as db:
        db.add(
            models.User(
                username=username,
                password_hash=hash_password(password),
                role=Role.BUYER.value,
                company="漫步贸易有限公司",
                email=f"{username}@example.com",
                created_at=datetime.now(UTC),
            )
        )
        await db.commit()
    return username


async def unread_badge(buyer: Person, count: int) -> None:
    """The header's unread count (none shown at zero); notices land a moment after the step
    that sends them, so the page is reloaded until it shows."""
    badge = buyer.page.locator(".badge[aria-label=未读消息]")
    for _ in range(50):
        await buyer.page.reload()
        shown = await badge.inner_text() if await badge.count() else "0"
        if shown == str(count):
            return
        await buyer.page.wait_for_timeout(200)
    raise AssertionError(f"the header shows {shown} unread messages, not {count}")


async def test_user_center_pages(
    sign_in: SignIn, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """账户信息 (contact edited, password changed), 收货地址 (added, default moved), 发票信息
    (profiles added, edited, deleted) and 我的消息 (unread count, read one, read all)."""
    walk = Walk("user-center")
    username = await new_buyer(session_maker, "demo-old-password")
    buyer = await sign_in(username, "demo-old-password")
    page = buyer.page

    # 账户信息: the company is read-only; contact, mobile and e-mail are saved.
    await page.click("a:has-text('买家中心')")
    await page.click("aside a:has-text('账户信息')")
    await expect(page.locator("#company")).to_have_value("漫步贸易有限公司")
    await expect(page.locator("#company")).not_to_be_editable()
    await page.fill("#contact_name", "韩梅梅")
    await page.fill("#mobile", "13912345678")
    await page.fill("#email", "hmm@example.com")
    await page.click("button:has-text('保存')")
    await expect(page.locator(".flash.ok")).to_have_text("账户信息已保存")
    await expect(page.locator("#contact_name")).to_have_value("韩梅梅")
    await walk.shot(buyer, "account-saved")
    await page.fill("#mobile", "12345")
    await page.click("button:has-text('保存')")
    await expect(page.locator("#mobile + .field-error")).to_be_visible()
    await walk.shot(buyer, "account-refused")

    await page.fill("#current_password", "demo-old-password")
    await page.fill("#new_password", "a-new-walk-password")
    await page.fill("#confirm_password", "a-new-walk-password")
    await page.click("button:has-text('修改密码')")
    await expect(page.locator(".flash.ok")).to_contain_text("密码已修改")
    await walk.shot(buyer, "password-changed")
    await page.click("button:has-text('退出')")
    buyer.password = "demo-old-password"
    await buyer.sign_in()
    await expect(page.locator(".flash.error")).to_have_text("账号或密码错误")
    await expect(page.locator("form[action='/logout']")).to_have_count(0)
    buyer.password = "a-new-walk-password"
    await buyer.sign_in()
    await expect(page.locator(".who")).to_contain_text(username)
    await walk.shot(buyer, "signed-in-with-new-password")

    # 收货地址: two added, the second made default.
    await page.click("aside a:has-text('收货地址')")
    await expect(page.get_by_text("你有 0 个收货地址")).to_be_visible()
    for name, mobile, first in (("韩梅梅", "13912345678", True), ("李雷", "13800138000", False)):
        adding = page.locator("form[action='/my/addresses']")
        await adding.evaluate("form => { form.closest('details').open = true; }")
        await adding.get_by_label("姓名").fill(name)
        await adding.get_by_label("手机").fill(mobile)
        await adding.get_by_label("邮政编码").fill("200120")
        await adding.locator("#new_address").fill("上海市浦东新区峨山路91弄120号")
        if first:
            await adding.locator("input[name=is_default]").check()
        await adding.locator("button:has-text('保存收货地址')").click()
        await expect(page.locator(".flash.ok")).to_be_visible()
    await expect(page.get_by_text("你有 2 个收货地址")).to_be_visible()
    await expect(page.locator(".profile.chosen")).to_contain_text("韩梅梅")
    await walk.shot(buyer, "addresses-added")
    other = page.locator(".profile", has_text="李雷")
    await other.locator("button:has-text('设为默认')").click()
    await expect(page.locator(".profile.chosen")).to_contain_text("李雷")
    await expect(page.locator(".profile.chosen")).to_contain_text("默认地址")
    await walk.shot(buyer, "address-default-moved")

    # 发票信息: the invoice applications' page leads to the profiles, added, edited, deleted.
    await page.click("aside a:has-text('发票信息')")
    await expect(page.get_by_text("你有 0 张发票信息")).to_be_visible()
    await page.click("text=发票信息管理")
    await expect(page.locator("#profile-count")).to_have_text("你有 0 张发票信息")
    adding = page.locator("form[action='/my/profiles']")
    await add_profile(adding, PROFILE | {"title": "漫步贸易有限公司"})
    await expect(page.locator(".flash.ok")).to_have_text("发票信息已保存")
    await add_profile(adding, PROFILE | {"title": "漫步分公司", "invoice_type": "vat_normal"})
    await expect(page.locator("#profile-count")).to_have_text("你有 2 张发票信息")
    await walk.shot(buyer, "profiles-added")
    branch = page.locator(".profile", has_text="漫步分公司")
    await expect(branch).to_contain_text("增值税普通发票")
    editing = branch.locator("form[action^='/my/profiles/']:not([action$='/delete'])")
    await editing.evaluate("form => { form.closest('details').open = true; }")
    await editing.locator("input[name=recipient_name]").fill("王五")
    await editing.locator("button:has-text('保存')").click()
    await expect(page.locator(".flash.ok")).to_have_text("发票信息已更新")
    await expect(page.locator(".profile", has_text="漫步分公司")).to_contain_text("王五")
    await walk.shot(buyer, "profile-edited")
    await page.locator(".profile", has_text="漫步分公司").locator("text=删除").click()
    await expect(page.locator(".flash.ok")).to_have_text("发票信息已删除")
    await expect(page.locator("#profile-count")).to_have_text("你有 1 张发票信息")
    await walk.shot(buyer, "profile-deleted")

    # 我的消息: an order returned twice by the reviewer leaves two unread notices.
    order_no = await place_order(buyer, "JD0001", unique("消息店"))
    reviewer = await sign_in("bmp")
    for reason in ("店铺名称有误", "卖家 NICK 有误"):
        await review(reviewer, order_no)
        returning = reviewer.page.locator("form[action$='/return']")
        await returning.locator("input[name=reason]").fill(reason)
        await returning.locator("button").click()
        await expect(reviewer.page.locator(".flash.ok")).to_contain_text("已打回")
        if reason == "店铺名称有误":
            await open_order(buyer, order_no)
            await page.click("text=修改信息")
            await page.click("text=重新提交审核")
            await expect(page.locator(".flash.ok")).to_contain_text("已修改信息并重新提交审核")
    await unread_badge(buyer, 2)
    await page.click("a.messages-link")
    await expect(page.get_by_text("你有 2 条未读消息")).to_be_visible()
    await expect(page.locator(".message.unread")).to_have_count(2)
    await walk.shot(buyer, "messages-unread")
    await page.locator(".message.unread").first.locator("button:has-text('查看')").click()
    await expect(page.locator(".message-body")).to_contain_text(order_no)
    await expect(page.locator(".badge[aria-label=未读消息]")).to_have_text("1")
    await expect(page.locator("aside")).to_contain_text("我的消息（1）")
    await walk.shot(buyer, "message-read")
    await page.click("button:has-text('全部标为已读')")
    await expect(page.locator(".flash.ok")).to_have_text("已全部标为已读")
    await expect(page.locator(".message.unread")).to_have_count(0)
    await expect(page.locator(".badge[aria-label=未读消息]")).to_have_count(0)
    await expect(page.get_by_text("你有 0 条未读消息")).to_be_visible()
    await walk.shot(buyer, "messages-all-read")
    await walk.phone_shot(buyer, "messages-all-read")


async def test_checkout_with_the_keyboard_only(
    sign_in: SignIn, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """From the product page to 订购成功 with Tab, Shift+Tab, Space, Enter and typing only
    (a buyer of their own: no invoice profile yet, so one is added on the way); every
    control reached shows where the focus is."""
    walk = Walk("keyboard")
    buyer = await sign_in(await new_buyer(session_maker, "demo"))
    page, keys = buyer.page, buyer.page.keyboard
    await buyer.open("/shop/JD0001")

    # 附加服务: the first module unticked and ticked again with Space, then 下一步 with Enter.
    await tab_to(page, "input[name=module]")
    await keys.press("Space")
    await expect(page.locator("#next-step")).to_be_disabled()
    await keys.press("Space")
    await expect(page.locator("#running-total")).to_have_text("RMB 2000.00")
    await tab_to(page, "#next-step")
    await keys.press("Enter")
    await expect(page.get_by_role("heading", name="补充信息")).to_be_visible()

    # 添加一个新开票 (open: none saved yet), saved with its own button.
    for name in ("title", "taxpayer_id", "recipient_name", "recipient_mobile", "recipient_address"):
        await tab_to(page, f"#new-profile-{name}")
        await keys.type(PROFILE[name])
    await tab_to(page, "button[formaction$='/checkout/profile']")
    await keys.press("Enter")
    await expect(page.locator(".flash.ok")).to_contain_text("发票信息已保存")

    # 补充信息, the agreement ticked with Space, a remark added going back with Shift+Tab.
    fields = {"service_market_order_no": unique("SM"), "shop_name": unique("键盘店"),
              "seller_nick": "5432", "baison_staff": "001", "reminder_name": "李雷",
              "reminder_mobile": "13800138000", "reminder_email": "l123@example.com"}  # fmt: skip
    for name, value in fields.items():
        await tab_to(page, f"#{name}")
        await keys.type(value)
    await tab_to(page, "input[name=agreement_accepted]")
    await keys.press("Space")
    await expect(page.locator("input[name=agreement_accepted]")).to_be_checked()
    await tab_to(page, "#remark", backwards=True)
    await keys.type("键盘下单")
    await walk.shot(buyer, "checkout-filled")
    await tab_to(page, "button.big")
    await keys.press("Enter")
    flash = page.locator(".flash.ok")
    await expect(flash).to_contain_text("订购成功")
    await walk.shot(buyer, "placed")
    found = re.search(r"BS-ZX\d{18}", await flash.inner_text())
    assert found is not None
    await expect(page.locator(f"#row-{found.group(0)}")).to_contain_text("付款成功")
