"""The lists' filter bars, the details pages, 开票管理 and the edit form, as a browser drives
them (GET forms keep their values, 404 pages for what is not the visitor's)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from tests.support import jd_walk
from tests.support.http_api import (
    Api,
    agreed_refund,
    completed_jd_order,
    ok,
    refund_applied,
    refund_chosen,
    refused_back_to,
    signed_in_pages,
)
from tests.support.samples import ENTERPRISE_REFUND_FORM, unique


async def _returned(api: Api, **overrides: Any) -> dict[str, Any]:
    buyer = await api.login("leiliang")
    order = await api.place(buyer, **overrides)
    return await ok(
        api.http.post(
            f"/api/admin/orders/{order['order_no']}/return",
            json={"reason": "收货人有误"},
            headers=await api.login("bmp"),
        )
    )


async def test_edit_page_changes_the_consignee_and_the_remark(api: Api) -> None:
    order = await _returned(api, remark="旧备注")
    no = order["order_no"]
    buyer = await signed_in_pages(api, "leiliang")
    form = await buyer.get(f"/my/orders/{no}/edit")
    assert 'value="旧备注"' in form.text and "收货人信息" in form.text
    bad = await buyer.post(
        f"/my/orders/{no}/edit",
        data={"address_choice": "typed", "consignee_name": "王五", "consignee_mobile": "123"},
    )
    assert refused_back_to(bad, f"/my/orders/{no}/edit") and "请输入正确的11位手机号" in bad.text
    done = await buyer.post(
        f"/my/orders/{no}/edit",
        data={
            "address_choice": "typed",
            "consignee_name": "王五",
            "consignee_mobile": "13900139000",
            "consignee_postcode": "200120",
            "consignee_address": "上海市峨山路91弄",
            "remark": "",
        },
    )
    assert "已修改信息并重新提交审核" in done.text
    after = await ok(api.http.get(f"/api/orders/{no}", headers=await api.login("leiliang")))
    assert after["consignee"]["name"] == "王五" and after["remark"] is None


ORDER_FILTER_LABELS = (
    "主订单号", "服务市场订单号", "电商平台", "店铺名称", "发票单号", "开票状态", "订单状态", "下单时间",
)  # fmt: skip


async def test_order_lists_have_every_filter_and_keep_them_on_reload_and_paging(
    api: Api,
) -> None:
    shop = unique("网页筛选店")
    buyer_api = await api.login("leiliang")
    placed = [(await api.place(buyer_api, shop_name=shop))["order_no"] for _ in range(3)]
    buyer = await signed_in_pages(api, "leiliang")
    reviewer = await signed_in_pages(api, "bmp")
    for client, path in ((buyer, "/my/orders"), (reviewer, "/admin/orders")):
        page = await client.get(path, params={"shop_name": shop, "status": "submitted"})
        for label in ORDER_FILTER_LABELS:
            assert f">{label}</label>" in page.text, (path, label)
        assert f'name="shop_name" value="{shop}"' in page.text
        assert '<option value="submitted" selected>' in page.text
        assert all(no in page.text for no in placed)
        none = await client.get(path, params={"shop_name": shop, "status": "voided"})
        assert not any(no in none.text for no in placed)
        paged = await client.get(path, params={"shop_name": shop, "page_size": 2})
        nxt = re.search(r'href="(\?[^"]*page=2[^"]*)">下一页', paged.text)
        assert nxt is not None and f"shop_name={quote(shop)}" in nxt.group(1).replace("&amp;", "&")
        second = await client.get(path + nxt.group(1).replace("&amp;", "&"))
        assert sum(no in second.text for no in placed) == 1


async def test_back_office_order_list_shows_invoice_numbers_and_filters_by_them(
    api: Api,
) -> None:
    shop = unique("网页开票店")
    order = await completed_jd_order(api, shop_name=shop)
    await api.place(await api.login("leiliang"), shop_name=shop)
    kp = order["invoices"][0]["invoice_app_no"]
    reviewer = await signed_in_pages(api, "bmp")
    listed = await reviewer.get("/admin/orders", params={"shop_name": shop})
    assert f'href="/admin/invoices/{kp}"' in listed.text and "已申请" in listed.text
    by_number = await reviewer.get("/admin/orders", params={"invoice_no": kp})
    assert order["order_no"] in by_number.text and "共 1 条" in by_number.text
    by_status = await reviewer.get(
        "/admin/orders", params={"shop_name": shop, "invoice_status": "applied"}
    )
    assert "共 1 条" in by_status.text and '<option value="applied" selected>' in by_status.text


async def test_refund_list_filters_by_platform_and_keeps_them(api: Api) -> None:
    shop = unique("网页退款店")
    order = await refund_applied(api, shop_name=shop)
    refund_id = order["refund"]["refund_id"]
    for username, path in (("leiliang", "/my/refunds"), ("bmp", "/admin/refunds")):
        client = await signed_in_pages(api, username)
        page = await client.get(path, params={"shop_name": shop, "platform": "jd"})
        assert ">订单类型</label>" in page.text and ">电商平台</label>" in page.text
        assert refund_id in page.text and '<option value="jd" selected>' in page.text
        other = await client.get(path, params={"shop_name": shop, "platform": "taobao"})
        assert refund_id not in other.text and "暂无退款" in other.text


async def test_invoice_lists_filter_by_order_and_status(api: Api) -> None:
    order = await completed_jd_order(api)
    applied = order["invoices"][0]["invoice_app_no"]
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get(
        "/my/invoices", params={"order_no": order["order_no"], "status": "applied"}
    )
    assert ">开票状态</label>" in page.text and f'value="{order["order_no"]}"' in page.text
    assert applied in page.text and "你有 1 张发票信息" in page.text
    pending_only = await buyer.get(
        "/my/invoices", params={"order_no": order["order_no"], "status": "pending"}
    )
    assert applied not in pending_only.text and "你有 1 张发票信息" in pending_only.text


async def test_finance_page_filters_agreed_or_paid_refunds(api: Api) -> None:
    refund_id = (await agreed_refund(api, ENTERPRISE_REFUND_FORM))["refund_id"]
    finance = await signed_in_pages(api, "finance")
    waiting = await finance.get("/finance")
    assert refund_id in waiting.text and '<option value="agreed" selected>' in waiting.text
    paid = await finance.get("/finance", params={"status": "refunded"})
    assert refund_id not in paid.text and '<option value="refunded" selected>' in paid.text


async def test_order_details_page_shows_the_guides_sections_to_its_buyer_only(api: Api) -> None:
    order = await completed_jd_order(api, remark="请尽快开票")
    no = order["order_no"]
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get(f"/my/orders/{no}")
    assert page.status_code == 200
    for shown in (
        "订单详情", "订单信息", "交易信息", order["transaction"]["serial_no"], "收货人信息",
        "发票信息", order["invoice_profile"]["taxpayer_id"], "备注", "请尽快开票",
        order["app_key"], "操作记录", "确认收货",
    ):  # fmt: skip
        assert shown in page.text, shown
    assert ">退款</button>" in page.text  # decide_refund is allowed now
    listed = await buyer.get("/my/orders", params={"order_no": no})
    assert f'href="/my/orders/{no}">详情</a>' in listed.text
    other = await signed_in_pages(api, "zhangsan")
    refused = await other.get(f"/my/orders/{no}")
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("text/html")
    assert f"未找到订单 {no}" in refused.text and "请尽快开票" not in refused.text
    missing = await buyer.get("/my/orders/BS-ZX000000000000000000")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


async def test_back_office_order_details_page_and_its_404(api: Api) -> None:
    order = await completed_jd_order(api)
    reviewer = await signed_in_pages(api, "bmp")
    page = await reviewer.get(f"/admin/orders/{order['order_no']}")
    assert "订单详情" in page.text and order["transaction"]["serial_no"] in page.text
    assert order["app_key"] in page.text and "操作记录" in page.text and "发票信息" in page.text
    missing = await reviewer.get("/admin/orders/BS-ZX000000000000000000")
    assert missing.status_code == 404 and "未找到订单" in missing.text


async def test_invoice_details_page_for_its_buyer_and_the_back_office(api: Api) -> None:
    order = await completed_jd_order(api)
    kp = order["invoices"][0]["invoice_app_no"]
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get(f"/my/invoices/{kp}")
    assert page.status_code == 200
    for shown in (
        "开票详情", kp, order["order_no"], order["transaction"]["serial_no"], "已申请",
        "暂未生成", order["invoice_profile"]["taxpayer_id"], order["invoice_profile"]["recipient_name"],
    ):  # fmt: skip
        assert shown in page.text, shown
    listed = await buyer.get("/my/invoices", params={"order_no": order["order_no"]})
    assert f'href="/my/invoices/{kp}">详情</a>' in listed.text
    other = await signed_in_pages(api, "zhangsan")
    refused = await other.get(f"/my/invoices/{kp}")
    assert refused.status_code == 404 and "text/html" in refused.headers["content-type"]
    assert order["invoice_profile"]["taxpayer_id"] not in refused.text

    reviewer = await signed_in_pages(api, "bmp")
    number = unique("FP")
    issued = await reviewer.post(f"/admin/invoices/{kp}/issue", data={"invoice_number": number},
                                 headers={"referer": f"http://test/admin/invoices/{kp}"})  # fmt: skip
    assert "已开票" in issued.text and number in issued.text and "开票详情" in issued.text
    shipped = await reviewer.post(
        f"/admin/invoices/{kp}/ship",
        data={"courier": "中通", "tracking_no": "123123123"},
        headers={"referer": f"http://test/admin/invoices/{kp}"},
    )
    assert "中通 123123123" in shipped.text and "已寄送" in shipped.text
    after = await buyer.get(f"/my/invoices/{kp}")
    assert number in after.text and "中通 123123123" in after.text


async def test_back_office_invoice_queue_issues_and_ships_from_the_list(api: Api) -> None:
    order = await completed_jd_order(api)
    no = order["order_no"]
    kp = order["invoices"][0]["invoice_app_no"]
    reviewer = await signed_in_pages(api, "bmp")
    listed_at = f"http://test/admin/invoices?order_no={no}"
    queue = await reviewer.get("/admin/invoices", params={"order_no": no})
    assert f'href="/admin/invoices/{kp}">{kp}</a>' in queue.text
    assert f'action="/admin/invoices/{kp}/issue"' in queue.text
    assert "待处理（已申请、已开票待寄送）" in queue.text and "共 1 张开票申请" in queue.text
    opened = await reviewer.get(f"/admin/invoices/{kp}")
    assert opened.status_code == 200 and "开票详情" in opened.text
    number = unique("FP")
    issued = await reviewer.post(
        f"/admin/invoices/{kp}/issue",
        data={"invoice_number": number},
        headers={"referer": listed_at},
    )
    assert f"{kp} 已开票" in issued.text and "共 1 张开票申请" in issued.text  # still listed
    assert f'action="/admin/invoices/{kp}/ship"' in issued.text
    shipped = await reviewer.post(
        f"/admin/invoices/{kp}/ship",
        data={"courier": "中通", "tracking_no": "123123123"},
        headers={"referer": listed_at},
    )
    assert "已寄送" in shipped.text and "共 0 张开票申请" in shipped.text
    done = await reviewer.get("/admin/invoices", params={"order_no": no, "status": "shipped"})
    assert kp in done.text and '<option value="shipped" selected>' in done.text
    everything = await reviewer.get("/admin/invoices", params={"order_no": no, "status": "all"})
    assert "共 2 张开票申请" in everything.text


async def test_back_office_invoice_queue_returns_from_the_list(api: Api) -> None:
    order = await completed_jd_order(api)
    kp = order["invoices"][0]["invoice_app_no"]
    reviewer = await signed_in_pages(api, "bmp")
    returned = await reviewer.post(
        f"/admin/invoices/{kp}/return",
        data={"reason": "抬头有误"},
        headers={"referer": f"http://test/admin/invoices?order_no={order['order_no']}"},
    )
    assert "已打回" in returned.text and "共 0 张开票申请" in returned.text
    buyer = await signed_in_pages(api, "leiliang")
    page = await buyer.get(f"/my/invoices/{kp}")
    assert "打回原因" in page.text and "抬头有误" in page.text and "发票修改" in page.text


async def test_refund_form_picks_province_and_city_without_javascript(api: Api) -> None:
    no = await refund_chosen(api)
    buyer = await signed_in_pages(api, "leiliang")
    form = await buyer.get(f"/my/orders/{no}/refund")
    assert form.text.count('<optgroup label="') == 34
    assert re.search(r'<option value="广东省"\s*>广东省</option>', form.text)
    assert re.search(r'<option value="广东省 广州市"\s*>广州市</option>', form.text)
    account = {k: v for k, v in ENTERPRISE_REFUND_FORM.items() if k != "region"}
    refused = await buyer.post(f"/my/orders/{no}/refund", data=account | {"region": "火星"})
    assert (
        refused_back_to(refused, f"/my/orders/{no}/refund")
        and "所属地区不是已知的省份和城市" in refused.text
    )
    assert 'value="火星"' in refused.text  # what was refused stays visible
    province_only = await buyer.post(
        f"/my/orders/{no}/refund", data=account | {"region_province": "江苏省"}
    )
    assert (
        refused_back_to(province_only, f"/my/orders/{no}/refund")
        and "所属地区" in province_only.text
    )
    assert '<option value="江苏省" selected>' in province_only.text
    filed = await buyer.post(
        f"/my/orders/{no}/refund",
        data=account | {"region_province": "广东省", "region_city": "广东省 广州市"},
    )
    assert "退款申请已提交" in filed.text
    after = await ok(api.http.get(f"/api/orders/{no}", headers=await api.login("leiliang")))
    assert after["refund"]["region"] == "广东省 广州市"


async def test_refund_correction_form_shows_the_region_picked(api: Api) -> None:
    no = await refund_chosen(api)
    refund = await jd_walk.apply_refund(
        api.send, no, ENTERPRISE_REFUND_FORM | {"region": "浙江 杭州"}
    )
    await jd_walk.record_settlement(api.send, no)
    await ok(
        api.http.post(
            f"/api/admin/refunds/{refund['refund_id']}/return",
            json={"reason": "开户行有误"},
            headers=await api.login("bmp"),
        )
    )
    buyer = await signed_in_pages(api, "leiliang")
    form = await buyer.get(f"/my/orders/{no}/refund")
    assert '<option value="浙江省" selected>' in form.text
    assert '<option value="浙江省 杭州市" selected>' in form.text
