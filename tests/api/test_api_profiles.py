"""发票信息: a buyer's invoice profiles, validated field by field."""

from __future__ import annotations

from tests.support.http_api import Api
from tests.support.samples import PROFILE


async def _profiles(api: Api, headers: dict[str, str]) -> list[dict[str, object]]:
    return list((await api.http.get("/api/invoice-profiles", headers=headers)).json())


async def test_create_profile_answers_it_with_labels(api: Api) -> None:
    headers = await api.login("zhangsan")
    response = await api.http.post(
        "/api/invoice-profiles",
        json=PROFILE | {"taxpayer_id": "91350100m000100y43"},
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["invoice_type_label"] == "增值税专用发票"
    assert body["taxpayer_id"] == "91350100M000100Y43"
    assert body["id"] in [p["id"] for p in await _profiles(api, headers)]


async def test_create_profile_bad_mobile_is_422_and_not_stored(api: Api) -> None:
    headers = await api.login("zhangsan")
    before = await _profiles(api, headers)
    response = await api.http.post(
        "/api/invoice-profiles", json=PROFILE | {"recipient_mobile": "12345678901"}, headers=headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "recipient_mobile", "message": "请输入正确的11位手机号"}
    ]
    assert await _profiles(api, headers) == before


async def test_create_profile_bad_uscc_checksum_is_422(api: Api) -> None:
    headers = await api.login("zhangsan")
    response = await api.http.post(
        "/api/invoice-profiles",
        json=PROFILE | {"taxpayer_id": "91350100M000100Y44"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "taxpayer_id", "message": "统一社会信用代码校验位不正确"}
    ]


async def test_create_profile_missing_and_unknown_fields_are_422_per_field(api: Api) -> None:
    headers = await api.login("zhangsan")
    before = await _profiles(api, headers)
    body = {k: v for k, v in PROFILE.items() if k != "title"} | {
        "invoice_type": "receipt",
        "owner": "leiliang",
    }
    response = await api.http.post("/api/invoice-profiles", json=body, headers=headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"title", "invoice_type", "owner"}
    assert await _profiles(api, headers) == before


async def test_replace_profile_changes_every_field(api: Api) -> None:
    headers = await api.login("zhangsan")
    profile_id = await api.profile(headers)
    new = PROFILE | {
        "invoice_type": "vat_normal",
        "title": "示例科技有限公司",
        "recipient_mobile": "13912345678",
    }
    response = await api.http.put(f"/api/invoice-profiles/{profile_id}", json=new, headers=headers)
    assert response.status_code == 200
    assert {k: response.json()[k] for k in new} == new
    assert response.json()["invoice_type_label"] == "增值税普通发票"


async def test_replace_profile_of_another_buyer_is_404(api: Api) -> None:
    profile_id = await api.profile(await api.login("leiliang"))
    response = await api.http.put(
        f"/api/invoice-profiles/{profile_id}", json=PROFILE, headers=await api.login("zhangsan")
    )
    missing = await api.http.put(
        "/api/invoice-profiles/999999", json=PROFILE, headers=await api.login("zhangsan")
    )
    assert (response.status_code, missing.status_code) == (404, 404)
    assert response.json()["detail"] == f"发票信息 {profile_id} 不存在或无权查看"


async def test_delete_profile_is_204_then_404(api: Api) -> None:
    headers = await api.login("zhangsan")
    profile_id = await api.profile(headers)
    other = await api.http.delete(
        f"/api/invoice-profiles/{profile_id}", headers=await api.login("leiliang")
    )
    assert other.status_code == 404
    deleted = await api.http.delete(f"/api/invoice-profiles/{profile_id}", headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (
        await api.http.delete(f"/api/invoice-profiles/{profile_id}", headers=headers)
    ).status_code == 404
    assert profile_id not in [p["id"] for p in await _profiles(api, headers)]
