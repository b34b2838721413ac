"""发票信息管理, the user center's page of invoice profiles: a buyer's own only, and its
forms come back to it."""

from __future__ import annotations

from tests.support.http_api import Api, signed_in_pages
from tests.support.samples import unique


async def test_profiles_page_counts_and_lists_only_the_buyers_own(api: Api) -> None:
    mine, theirs = unique("我的抬头"), unique("别人的抬头")
    await api.profile(await api.login("leiliang"), title=mine)
    await api.profile(await api.login("zhangsan"), title=theirs)
    buyer = await signed_in_pages(api, "leiliang")
    own = (await api.http.get("/api/invoice-profiles", headers=await api.login("leiliang"))).json()
    page = await buyer.get("/my/profiles")
    assert page.status_code == 200
    assert mine in page.text and theirs not in page.text
    assert f"你有 {len(own)} 张发票信息" in page.text
    assert 'name="back" value="/my/profiles"' in page.text


async def test_profile_added_from_the_page_returns_to_it(api: Api) -> None:
    buyer = await signed_in_pages(api, "zhangsan")
    title = unique("新抬头")
    answer = await buyer.post(
        "/my/profiles",
        data={"invoice_type": "vat_normal", "title": title, "taxpayer_id": "91350100M000100Y43",
              "recipient_name": "张三", "recipient_mobile": "19390000000",
              "recipient_address": "上海市浦东新区峨山路91弄120号", "back": "/my/profiles"},
    )  # fmt: skip
    assert answer.status_code == 200 and str(answer.url).endswith("/my/profiles")
    assert "发票信息已保存" in answer.text and title in answer.text


async def test_invoices_page_of_a_buyer_leads_to_the_profiles(api: Api) -> None:
    buyer = await signed_in_pages(api, "leiliang")
    assert 'href="/my/profiles"' in (await buyer.get("/my/invoices")).text
    reviewer = await signed_in_pages(api, "bmp")
    assert 'href="/my/profiles"' not in (await reviewer.get("/admin/invoices")).text
