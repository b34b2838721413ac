"""The pages, driven as a browser would (forms and redirects), over the same services."""

from __future__ import annotations

import re

from tests.support.http_api import (
    Api,
    agreed_refund,
    form_token,
    ok,
    refund_chosen,
    refused_back_to,
    signed_in_pages,
)
from tests.support.samples import ENTERPRISE_REFUND_FORM, PROFILE, unique


async def test_login_with_wrong_password_shows_the_error(api: Api) -> None:
    token = form_token((await api.http.get("/login")).text)
    page = await api.http.post(
        "/login", data={"username": "leiliang", "password": "x", "csrf_token": token}
    )
    assert page.status_code == 401 and "账号或密码错误" in page.text


async def test_pages_need_sign_in(api: Api) -> None:
    page = await api.http.get("/my/orders")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_buyer_cannot_open_the_back_office(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/admin/orders")
    assert "当前账号无权访问该页面" in page.text


async def test_catalog_shows_the_guides_cards(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/shop?line=E3")
    assert "E3-京东开放平台对接服务" in page.text and "RMB2000.00起" in page.text
    assert "E3-抖店开放平台对接服务" in page.text


async def test_checkout_with_bad_fields_shows_them_and_places_nothing(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    await buyer.post("/my/profiles", data=PROFILE | {"back": "/shop"})
    shop = unique("坏店")
    page = await buyer.post(
        "/shop/JD0001/checkout",
        data={
            "module_codes": "ERP",
            "shop_name": shop,
            "reminder_mobile": "123",
            "agreement_accepted": "true",
        },
    )
    assert refused_back_to(page, "/shop/JD0001/checkout")
    assert "请输入正确的11位手机号" in page.text
    orders = await buyer.get(f"/my/orders?shop_name={shop}")
    assert "没有符合条件的订单" in orders.text


async def test_buyer_places_and_reviewer_returns_and_buyer_resubmits(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    reviewer = await signed_in_pages(api, "bmp")
    await buyer.post("/my/profiles", data=PROFILE | {"back": "/shop"})
    checkout = await buyer.get("/shop/JD0001/checkout?module=ERP")
    profile_id = re.search(r'name="invoice_profile_id" value="(\d+)"', checkout.text).group(1)  # type: ignore[union-attr]
    placed = await buyer.post(
        "/shop/JD0001/checkout",
        data={
            "module_codes": "ERP", "invoice_profile_id": profile_id, "service_market_order_no": unique("SM"),
            "shop_name": "网页测试店", "seller_nick": "nick", "baison_staff": "王工", "reminder_name": "李雷",
            "reminder_mobile": "13800138000", "reminder_email": "lilei@example.com", "agreement_accepted": "true",
        },
    )  # fmt: skip
    order_no = re.search(r"主订单号 (BS-ZX\d{18})", placed.text).group(1)  # type: ignore[union-attr]
    assert ("付款成功" in placed.text and "流水明细" in placed.text) or "收起明细" in placed.text
    not_yet = await buyer.get(f"/my/orders/{order_no}/edit")
    assert "修改信息需要「打回」" in not_yet.text and not_yet.url.path == "/my/orders"

    returned = await reviewer.post(
        f"/admin/orders/{order_no}/return", data={"reason": "店铺名称有误"}
    )
    assert "已打回" in returned.text and "打回" in returned.text
    detail = await buyer.get(f"/my/orders?expand={order_no}")
    assert "打回原因：店铺名称有误" in detail.text and "修改信息" in detail.text
    refused = await buyer.post(f"/my/orders/{order_no}/confirm-receipt")
    assert "确认收货需要「已审核」" in refused.text
    emptied = await buyer.post(
        f"/my/orders/{order_no}/edit", data={"shop_name": "", "seller_nick": "nick"}
    )
    assert "请填写店铺名称" in emptied.text and "已修改信息" not in emptied.text
    resubmitted = await buyer.post(
        f"/my/orders/{order_no}/edit", data={"shop_name": "网页测试店二"}
    )
    assert "已修改信息并重新提交审核" in resubmitted.text
    approved = await reviewer.post(
        f"/admin/orders/{order_no}/approve", data={"platform_amount_yuan": ""}
    )
    assert "已审核通过" in approved.text
    confirmed = await buyer.post(f"/my/orders/{order_no}/confirm-receipt")
    assert (
        "已确认收货" in confirmed.text and "未申请" in confirmed.text and "退款" in confirmed.text
    )


async def test_finance_pages_show_waiting_refunds_and_the_ledger(api: Api) -> None:
    refund_id = (await agreed_refund(api, ENTERPRISE_REFUND_FORM))["refund_id"]
    finance = await signed_in_pages(api, "finance")
    waiting = await finance.get("/finance")
    assert refund_id in waiting.text and "确认打款 RMB 1000.00" in waiting.text
    reference = unique("WEB")
    csv = f"退款编号,退款金额(元),银行流水号\n{refund_id},1000.00,{reference}\n".encode()
    report = await finance.post("/finance/batch", files={"file": ("bank.csv", csv, "text/csv")})
    assert "成功 1" in report.text
    ledger = await finance.get("/finance/ledger")
    assert reference in ledger.text and "每日打款合计" in ledger.text


async def test_a_refused_payout_goes_back_to_the_page_of_the_list_its_form_was_on(
    api: Api,
) -> None:
    """With more refunds waiting than a page holds, the refused form is on a later page:
    the refusal goes back there, not to the first page where nothing would show it."""
    refund_id = (await agreed_refund(api, ENTERPRISE_REFUND_FORM))["refund_id"]
    finance = await signed_in_pages(api, "finance")
    site = str(finance.base_url).rstrip("/")
    page_two = f"{site}/finance?status=agreed&page=2"

    refused = await finance.post(
        f"/finance/refunds/{refund_id}/payout",
        data={"bank_reference": ""},
        headers={"Referer": page_two},
        follow_redirects=False,
    )

    assert refused.status_code == 303
    assert refused.headers["location"] == "/finance?status=agreed&page=2"
    # A Referer naming another page (or site) still goes back to the list, never elsewhere.
    for referer in ("https://elsewhere.example/finance/ledger", f"{site}/my/orders"):
        elsewhere = await finance.post(
            f"/finance/refunds/{refund_id}/payout",
            data={"bank_reference": ""},
            headers={"Referer": referer},
            follow_redirects=False,
        )
        assert elsewhere.headers["location"] == "/finance"


async def test_dev_mail_page_lists_what_the_catcher_holds(api: Api) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = "【百胜云市场】订单 BS-ZX202210181408314977 被打回"
    message["To"] = "leiliang@example.com"
    message.set_content("打回原因：店铺名称有误")
    api.settings.mail_dir.mkdir(parents=True, exist_ok=True)
    (api.settings.mail_dir / "20261128-000000-test.eml").write_bytes(message.as_bytes())
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get("/dev/mail")
    assert "订单 BS-ZX202210181408314977 被打回" in page.text and "店铺名称有误" in page.text


async def test_back_office_invoice_page_is_the_staff_queue_not_the_buyers_list(api: Api) -> None:
    reviewer = await signed_in_pages(api, "bmp")
    page = await reviewer.get("/admin/invoices")
    assert page.status_code == 200
    assert "<h1>开票管理" in page.text and "张开票申请" in page.text
    assert "张发票信息" not in page.text


async def test_the_agreement_named_at_checkout_opens_with_the_products_terms(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    checkout = await buyer.get("/shop/JD0001/checkout?module=ERP")
    assert 'href="/shop/JD0001/agreement"' in checkout.text
    jd = await buyer.get("/shop/JD0001/agreement")
    assert jd.status_code == 200 and "《店铺订购协议-E3》" in jd.text
    assert "订单金额的 50% 可申请退款" in jd.text and "服务期限为一年" in jd.text
    taobao = await buyer.get("/shop/JSFW0001/agreement")
    assert "本商品只开票不退款" in taobao.text and "可申请退款" not in taobao.text


async def test_the_refund_confirmation_says_what_comes_next(api: Api) -> None:
    """Before settlement the application waits for it; after, it waits for the review."""
    buyer = await signed_in_pages(api, "leiliang")
    reviewer = await api.login("bmp")
    waiting = await refund_chosen(api)
    page = await buyer.post(f"/my/orders/{waiting}/refund", data=ENTERPRISE_REFUND_FORM)
    assert "退款申请已提交，待平台与百胜结算后审核" in page.text

    settled = await refund_chosen(api)
    await ok(api.http.post(f"/api/admin/orders/{settled}/settlement", json={}, headers=reviewer))
    page = await buyer.post(f"/my/orders/{settled}/refund", data=ENTERPRISE_REFUND_FORM)
    assert "退款申请已提交，等待后台审核" in page.text


async def test_a_profile_added_at_checkout_keeps_the_order_form(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    shop = unique("保留店")
    typed = {
        "module_codes": "ERP",
        "shop_name": shop,
        "seller_nick": "保留NICK",
        "remark": "周末送",
    }
    refused = await buyer.post(
        "/shop/JD0001/checkout/profile", data=typed | PROFILE | {"taxpayer_id": "123"}
    )
    assert refused_back_to(refused, "/shop/JD0001/checkout")
    # The profile's error beside its field, what was typed in both parts kept.
    assert 'id="new-profile-taxpayer_id-error">纳税人识别号应为15、17、18或20位' in refused.text
    assert f'value="{shop}"' in refused.text and 'value="周末送"' in refused.text
    assert f'value="{PROFILE["title"]}"' in refused.text

    title = unique("保留抬头")
    saved = await buyer.post(
        "/shop/JD0001/checkout/profile", data=typed | PROFILE | {"title": title}
    )
    assert saved.status_code == 200 and "发票信息已保存，并已选为本订单的发票信息" in saved.text
    assert f'value="{shop}"' in saved.text and 'value="保留NICK"' in saved.text
    chosen = re.search(r'value="(\d+)" checked> ' + re.escape(title), saved.text)
    assert chosen is not None, "the new profile is the one chosen"


async def test_a_refused_refund_form_keeps_what_was_typed_and_asks_for_the_file_again(
    api: Api,
) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    no = await refund_chosen(api)
    typed = ENTERPRISE_REFUND_FORM | {"refund_type": "individual", "card_no": "6222-02"}
    page = await buyer.post(
        f"/my/orders/{no}/refund",
        data=typed,
        files={"proof": ("证明.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert refused_back_to(page, f"/my/orders/{no}/refund")
    assert "银行卡号应为12至19位数字" in page.text
    assert f'value="{ENTERPRISE_REFUND_FORM["account_name"]}"' in page.text
    assert 'value="6222-02"' in page.text
    assert "已选的文件不会保留，请重新选择退款证明文件" in page.text


async def test_deleting_a_profile_at_checkout_keeps_the_order_form(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    title = unique("将删除抬头")
    typed = {"module_codes": "ERP", "shop_name": unique("删前店"), "seller_nick": "删前NICK"}
    saved = await buyer.post(
        "/shop/JD0001/checkout/profile", data=typed | PROFILE | {"title": title}
    )
    profile_id = re.search(r'value="(\d+)" checked> ' + re.escape(title), saved.text).group(1)  # type: ignore[union-attr]
    deleted = await buyer.post(
        f"/shop/JD0001/checkout/profile/{profile_id}/delete",
        data=typed | {"invoice_profile_id": profile_id},
    )
    assert deleted.status_code == 200 and "发票信息已删除" in deleted.text
    assert title not in deleted.text
    assert f'value="{typed["shop_name"]}"' in deleted.text and 'value="删前NICK"' in deleted.text
