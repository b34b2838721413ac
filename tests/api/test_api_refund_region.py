"""所属地区 of a refund application: a known province and city, or 422 in Chinese."""

from __future__ import annotations

from tests.support import jd_walk
from tests.support.http_api import Api, ok, refund_chosen
from tests.support.samples import ENTERPRISE_REFUND_FORM, PDF, REFUND_FORM


async def test_refund_with_an_unknown_region_is_422_in_chinese_and_files_nothing(
    api: Api,
) -> None:
    no = await refund_chosen(api)
    buyer = await api.login("leiliang")
    response = await api.http.post(
        f"/api/orders/{no}/refund",
        data=REFUND_FORM | {"region": "火星 基地"},
        files={"proof": ("证明.pdf", PDF, "application/pdf")},
        headers=buyer,
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["region"] and "所属地区" in errors[0]["message"]
    after = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
    assert after["refund"] is None or after["refund"]["status"] != "applied"


async def test_refund_region_is_stored_written_out_in_full(api: Api) -> None:
    no = await refund_chosen(api)
    refund = await jd_walk.apply_refund(
        api.send, no, ENTERPRISE_REFUND_FORM | {"region": "广东 广州"}
    )
    assert refund["region"] == "广东省 广州市"


async def test_refund_correction_with_a_province_alone_is_422(api: Api) -> None:
    no = await refund_chosen(api)
    refund = await jd_walk.apply_refund(api.send, no, ENTERPRISE_REFUND_FORM)
    await jd_walk.record_settlement(api.send, no)
    reviewer = await api.login("bmp")
    await ok(
        api.http.post(
            f"/api/admin/refunds/{refund['refund_id']}/return",
            json={"reason": "开户行有误"},
            headers=reviewer,
        )
    )
    buyer = await api.login("leiliang")
    response = await api.http.put(
        f"/api/orders/{no}/refund",
        data=ENTERPRISE_REFUND_FORM | {"region": "江苏省"},
        headers=buyer,
    )
    assert response.status_code == 422 and "所属地区" in response.json()["errors"][0]["message"]
    fixed = await ok(
        api.http.put(
            f"/api/orders/{no}/refund",
            data=ENTERPRISE_REFUND_FORM | {"region": "江苏省 苏州市"},
            headers=buyer,
        )
    )
    assert (fixed["status"], fixed["region"]) == ("applied", "江苏省 苏州市")
