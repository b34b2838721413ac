"""所属地区: the province/city data and how a typed region is read against it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import regions
from domain.inputs import RefundAccountInput


def test_every_province_level_division_is_there_with_its_cities() -> None:
    provinces = regions.provinces()
    assert len(provinces) == 34
    assert len({p.name for p in provinces}) == 34 and len({p.short for p in provinces}) == 34
    assert all(p.cities and len(set(p.cities)) == len(p.cities) for p in provinces)
    whole = {p.name for p in provinces if p.whole}
    assert whole == {"北京市", "天津市", "上海市", "重庆市", "香港特别行政区", "澳门特别行政区"}
    assert "广州市" in regions.province("广东省").cities  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        ("广东省 广州市", "广东省 广州市"),
        ("广东 广州", "广东省 广州市"),
        ("广东省广州市", "广东省 广州市"),
        ("广东省\u3000广州市", "广东省 广州市"),
        ("上海市", "上海市"),
        ("上海", "上海市"),
        ("上海市 浦东新区", "上海市 浦东新区"),
        ("辽宁 朝阳", "辽宁省 朝阳市"),
        ("内蒙古 兴安盟", "内蒙古自治区 兴安盟"),
    ],
)
def test_known_regions_are_written_out_in_full(typed: str, known: str) -> None:
    assert regions.normalized_region(typed) == known


@pytest.mark.parametrize(
    "typed", ["", "火星", "江苏省", "广东省 上海市", "广东省 广州市 天河区", "上海市 广州市"]
)
def test_unknown_regions_and_a_province_alone_are_refused(typed: str) -> None:
    assert regions.normalized_region(typed) is None


def test_refund_account_input_refuses_an_unknown_region_in_chinese() -> None:
    with pytest.raises(ValidationError) as failure:
        RefundAccountInput(
            refund_type="enterprise",  # type: ignore[arg-type]
            account_name="快乐贸易有限公司",
            bank="工行",
            branch="陆家嘴支行",
            card_no="6222021234567891234",
            region="火星 基地",
        )
    error = failure.value.errors()[0]
    assert error["loc"] == ("region",) and "所属地区" in error["msg"]
